package io.stopline.gateway.stop;

import io.stopline.protocol.StopReason;
import org.jspecify.annotations.Nullable;

/**
 * Stop a user's run: one command for every way a stop enters the gateway (the user's
 * stop, one id of a bulk stop, an admin's stop).
 *
 * @param actor who asked (the user, or the admin acting on the user's run): audited as
 * such
 * @param userId whose run; lookups are by this id only
 * @param reason why, which decides the rest: a user's single stop takes its rate-limit
 * permit inside its lookup; a bulk stop paid for every id up front and audits only the
 * runs it stopped
 * @param runId the run to stop, or null for whichever is active
 * @param seenTokens the tokens the stopping client displayed: the answer kept is cut to
 * them (null: all that was streamed)
 */
record StopCommand(String actor, String userId, String conversationId, StopReason reason, @Nullable String runId,
		@Nullable Integer seenTokens) {

	/** The user stops one of their conversations. */
	static StopCommand byUser(String userId, String conversationId) {
		return byUser(userId, conversationId, null, null);
	}

	/**
	 * The user stops one run of a conversation ({@code runId}; whichever is active when
	 * null). A run id that has not arrived yet is stopped before it starts.
	 */
	static StopCommand byUser(String userId, String conversationId, @Nullable String runId,
			@Nullable Integer seenTokens) {
		return new StopCommand(userId, userId, conversationId, StopReason.USER, runId, seenTokens);
	}

	/** One id of the user's stop-all (its permits were taken for the whole request). */
	static StopCommand inBulk(String userId, String conversationId) {
		return new StopCommand(userId, userId, conversationId, StopReason.STOP_ALL, null, null);
	}

	/** An administrator stops any user's run (not rate limited, audited as the admin). */
	static StopCommand byAdmin(String admin, String userId, String conversationId) {
		return new StopCommand(admin, userId, conversationId, StopReason.ADMIN, null, null);
	}

	/** Takes one permit of the user's stop rate in its own lookup. */
	boolean takesPermit() {
		return reason == StopReason.USER;
	}

	/**
	 * Audited even when it found no run. A bulk stop audits only what it stopped, so the
	 * audit entries of one request are bounded by the user's active runs, not by the ids
	 * sent (the metrics still count every outcome).
	 */
	boolean auditsMisses() {
		return reason != StopReason.STOP_ALL;
	}

	/** The metrics' {@code endpoint} tag. */
	String endpoint() {
		return switch (reason) {
			case STOP_ALL -> StopRateLimiter.ALL;
			case ADMIN -> "admin";
			default -> StopRateLimiter.SINGLE;
		};
	}

}
