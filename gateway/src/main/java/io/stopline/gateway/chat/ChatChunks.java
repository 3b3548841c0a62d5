package io.stopline.gateway.chat;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.stopline.core.run.RunRecord;
import org.jspecify.annotations.Nullable;

/** The OpenAI wire shapes: {@code chat.completion.chunk} and {@code chat.completion}. */
final class ChatChunks {

	static final String CANCELLED = "cancelled";

	private ChatChunks() {
	}

	static Chunk delta(RunRecord run, @Nullable String role, @Nullable String content) {
		return new Chunk("chatcmpl-" + run.runId(), "chat.completion.chunk", run.queuedAt().getEpochSecond(),
				run.agentName(), List.of(new ChunkChoice(0, new Delta(role, content), null)));
	}

	/**
	 * A tool call the run made, as an OpenAI {@code tool_calls} delta: the whole call in
	 * one chunk. The worker runs the tool itself; the client only learns of it.
	 */
	static Chunk toolCall(RunRecord run, int index, String id, String name, String arguments) {
		Delta delta = new Delta(null, null,
				List.of(new ToolCallDelta(index, id, "function", new FunctionCall(name, arguments))));
		return new Chunk("chatcmpl-" + run.runId(), "chat.completion.chunk", run.queuedAt().getEpochSecond(),
				run.agentName(), List.of(new ChunkChoice(0, delta, null)));
	}

	static Chunk finish(RunRecord run, String finishReason) {
		return new Chunk("chatcmpl-" + run.runId(), "chat.completion.chunk", run.queuedAt().getEpochSecond(),
				run.agentName(), List.of(new ChunkChoice(0, new Delta(null, null), finishReason)));
	}

	static Completion completion(RunRecord run, String content, String finishReason, int tokens) {
		return new Completion("chatcmpl-" + run.runId(), "chat.completion", run.queuedAt().getEpochSecond(),
				run.agentName(), run.conversationId(),
				List.of(new CompletionChoice(0, new AssistantMessage("assistant", content), finishReason)),
				Map.of("completion_tokens", Math.max(tokens, 0)));
	}

	record Chunk(String id, String object, long created, String model, List<ChunkChoice> choices) {
	}

	record ChunkChoice(int index, Delta delta, @Nullable String finishReason) {
	}

	@JsonInclude(JsonInclude.Include.NON_NULL)
	record Delta(@Nullable String role, @Nullable String content, @Nullable List<ToolCallDelta> toolCalls) {

		Delta(@Nullable String role, @Nullable String content) {
			this(role, content, null);
		}

	}

	record ToolCallDelta(int index, String id, String type, FunctionCall function) {
	}

	record FunctionCall(String name, String arguments) {
	}

	record Completion(String id, String object, long created, String model, String conversationId,
			List<CompletionChoice> choices, Map<String, Integer> usage) {
	}

	record CompletionChoice(int index, AssistantMessage message, String finishReason) {
	}

	record AssistantMessage(String role, String content) {
	}

	/** An error inside an already started stream (the HTTP status is already 200). */
	record StreamError(ErrorBody error) {

		static StreamError of(String message) {
			return new StreamError(new ErrorBody(message, "run_failed"));
		}
	}

	record ErrorBody(String message, String type) {
	}

}
