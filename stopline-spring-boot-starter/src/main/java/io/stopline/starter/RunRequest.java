package io.stopline.starter;

import java.time.Duration;
import java.util.UUID;

import io.stopline.core.schema.ConversationIds;
import org.jspecify.annotations.Nullable;

/**
 * One run to register around a stream: whose, in which conversation, by which agent.
 *
 * @param conversationId the conversation (one active run at a time)
 * @param userId the user who owns it: only they (or an administrator) may stop it
 * @param agent a name for what answers (listed with the active runs)
 * @param prompt the user's message, appended to the conversation's history
 * @param runId the run's id; a client that knows it before sending can stop the run
 * before it starts (the stop leaves a tombstone the run finds when it registers)
 * @param maxDuration the run is stopped with reason {@code timeout} past this; null for
 * {@code stopline.worker.max-run-duration}
 */
public record RunRequest(String conversationId, String userId, String agent, String prompt, String runId,
		@Nullable Duration maxDuration) {

	public RunRequest {
		if (!ConversationIds.isValid(conversationId)) {
			throw new IllegalArgumentException("conversation id: " + ConversationIds.RULE);
		}
		if (!ConversationIds.isValid(runId)) {
			throw new IllegalArgumentException("run id: " + ConversationIds.RULE);
		}
	}

	/** A run with a fresh run id and the node's time limit. */
	public static RunRequest of(String conversationId, String userId, String agent, String prompt) {
		return new RunRequest(conversationId, userId, agent, prompt, UUID.randomUUID().toString(), null);
	}

	public RunRequest withRunId(String runId) {
		return new RunRequest(conversationId, userId, agent, prompt, runId, maxDuration);
	}

	public RunRequest withMaxDuration(Duration maxDuration) {
		return new RunRequest(conversationId, userId, agent, prompt, runId, maxDuration);
	}

}
