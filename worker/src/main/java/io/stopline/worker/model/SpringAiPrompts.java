package io.stopline.worker.model;

import java.util.ArrayList;
import java.util.List;

import io.stopline.protocol.StartRun;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.SystemMessage;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.tool.ToolCallback;

/** A run's conversation and tools in Spring AI's types, the same for every provider. */
final class SpringAiPrompts {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private SpringAiPrompts() {
	}

	/** The run's messages, then each tool round: the calls, then their results. */
	static List<Message> messages(StartRun request, List<ToolRound> rounds) {
		List<Message> messages = new ArrayList<>();
		request.messages().forEach(message -> messages.add(message(message)));
		for (ToolRound round : rounds) {
			messages.add(AssistantMessage.builder()
				.content("")
				.toolCalls(round.requests()
					.stream()
					.map(call -> new AssistantMessage.ToolCall(call.id(), "function", call.name(), call.arguments()))
					.toList())
				.build());
			List<ToolResponseMessage.ToolResponse> results = new ArrayList<>();
			for (int i = 0; i < round.requests().size(); i++) {
				ToolRequest call = round.requests().get(i);
				results.add(new ToolResponseMessage.ToolResponse(call.id(), call.name(), round.results().get(i)));
			}
			messages.add(ToolResponseMessage.builder().responses(results).build());
		}
		return messages;
	}

	private static Message message(StartRun.ChatMessage message) {
		return switch (message.role()) {
			case "system" -> new SystemMessage(message.content());
			case "assistant" -> new AssistantMessage(message.content());
			default -> new UserMessage(message.content());
		};
	}

	/** A tool as the model sees it; the worker's tool loop, not Spring AI, calls it. */
	static ToolCallback callback(ToolDefinition tool) {
		org.springframework.ai.tool.definition.ToolDefinition definition = org.springframework.ai.tool.definition.ToolDefinition
			.builder()
			.name(tool.name())
			.description(tool.description())
			.inputSchema(JSON.writeValueAsString(tool.parameters()))
			.build();
		return new ToolCallback() {

			@Override
			public org.springframework.ai.tool.definition.ToolDefinition getToolDefinition() {
				return definition;
			}

			@Override
			public String call(String arguments) {
				throw new IllegalStateException("the worker's tool loop runs " + tool.name());
			}

		};
	}

}
