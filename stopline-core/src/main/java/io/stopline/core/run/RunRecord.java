package io.stopline.core.run;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * The ownership record of a conversation's active run, stored as JSON in
 * {@code stopline:{u:<user>}:runs}.
 *
 * @param runId the run (generation) id; every state change is fenced on it
 * @param state {@link #QUEUED} until a worker claims it, then {@link #RUNNING}
 * @param workerId the worker that runs it, null while queued
 * @param replyTo the gateway holding the client's connection
 */
public record RunRecord(String runId, String userId, String conversationId, String agentName, String state,
		@Nullable String workerId, String replyTo, Instant queuedAt, @Nullable Instant startedAt) {

	public static final String QUEUED = "queued";

	public static final String RUNNING = "running";

	public static final String PAUSED = "paused";

	public static RunRecord queued(String runId, String userId, String conversationId, String agentName, String replyTo,
			Instant now) {
		return new RunRecord(runId, userId, conversationId, agentName, QUEUED, null, replyTo, now, null);
	}

	public boolean isQueued() {
		return QUEUED.equals(state);
	}

	/** When the run began, from the user's point of view: the moment it was accepted. */
	public Instant since() {
		return startedAt != null ? startedAt : queuedAt;
	}
}
