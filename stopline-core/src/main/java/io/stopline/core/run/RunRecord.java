package io.stopline.core.run;

import java.time.Instant;

import io.stopline.protocol.RunState;
import org.jspecify.annotations.Nullable;

/**
 * The ownership record of a conversation's active run, stored as JSON in
 * {@code stopline:{u:<user>}:runs}.
 *
 * @param runId the run (generation) id; every state change is fenced on it
 * @param state {@link RunState#QUEUED} until a worker claims it, then
 * {@link RunState#RUNNING} (or {@link RunState#PAUSED})
 * @param workerId the worker that runs it, null while queued
 * @param replyTo the gateway holding the client's connection
 */
public record RunRecord(String runId, String userId, String conversationId, String agentName, RunState state,
		@Nullable String workerId, String replyTo, Instant queuedAt, @Nullable Instant startedAt) {

	public static RunRecord queued(String runId, String userId, String conversationId, String agentName, String replyTo,
			Instant now) {
		return new RunRecord(runId, userId, conversationId, agentName, RunState.QUEUED, null, replyTo, now, null);
	}

	public boolean isQueued() {
		return state == RunState.QUEUED;
	}

	/** When the run began, from the user's point of view: the moment it was accepted. */
	public Instant since() {
		return startedAt != null ? startedAt : queuedAt;
	}
}
