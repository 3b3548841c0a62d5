package io.stopline.protocol;

import java.time.Instant;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * Command from a gateway to any worker, carried by the {@code stopline:jobs} stream: run
 * this chat.
 *
 * @param replyTo the gateway whose inbox receives the run's events
 * @param maxDurationSeconds the request's own limit on the run's duration; null for the
 * worker's default
 */
public record StartRun(String runId, String userId, String conversationId, String agentName, List<ChatMessage> messages,
		int maxTokens, String replyTo, Instant requestedAt, @Nullable Integer maxDurationSeconds) {

	/** One message of the prompt, OpenAI style. */
	public record ChatMessage(String role, String content) {
	}
}
