package io.stopline.gateway.chat;

import java.util.List;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.Size;
import org.jspecify.annotations.Nullable;

/**
 * /** An OpenAI-style chat request; {@code model} names the agent.
 * {@code conversation_id} and {@code run_id} (the client's id for this run: a second send
 * with it joins the run, a stop for it may come first) are Stopline's extensions.
 * {@code max_tokens} is bounded by the agent's limit
 * ({@code stopline.agents.max-tokens.<agent>}), checked when the run starts.
 */
record ChatRequest(@NotBlank @Size(max = 128) String model, @NotEmpty @Size(max = 256) List<@Valid Message> messages,
		@Nullable Boolean stream, @Nullable @Positive Integer maxTokens, @Nullable String conversationId,
		@Nullable @Positive @Max(86_400) Integer maxDurationSeconds,
		@Nullable @Pattern(regexp = "[A-Za-z0-9][A-Za-z0-9._-]{0,127}",
				message = "1-128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit") String runId) {

	boolean streaming() {
		return Boolean.TRUE.equals(stream);
	}

	/** The newest user message: what enters the history. */
	String lastUserMessage() {
		for (int i = messages.size() - 1; i >= 0; i--) {
			if ("user".equals(messages.get(i).role())) {
				return messages.get(i).content();
			}
		}
		return messages.get(messages.size() - 1).content();
	}

	record Message(
			@NotNull @Pattern(regexp = "system|user|assistant|tool",
					message = "must be one of system, user, assistant, tool") String role,
			@NotNull @Size(max = 100_000) String content) {
	}
}
