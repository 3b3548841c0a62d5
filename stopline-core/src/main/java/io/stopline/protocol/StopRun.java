package io.stopline.protocol;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * Command from a gateway to the worker that owns a run: stop it. Recorded in the worker's
 * stop set before it is published, so a worker that missed the publish still finds it on
 * its next reconcile.
 *
 * @param requestId distinguishes two requests for the same run (their set members must
 * differ)
 * @param replyTo the gateway waiting for the confirmation
 * @param reason why; on the wire its {@link StopReason#wireName()}
 * @param seenTokens the tokens the stopping client displayed: the answer kept is cut to
 * them (null: all that was streamed)
 */
public record StopRun(String requestId, String runId, String userId, String conversationId, StopReason reason,
		String replyTo, Instant requestedAt, @Nullable Integer seenTokens) {

	public StopRun(String requestId, String runId, String userId, String conversationId, StopReason reason,
			String replyTo, Instant requestedAt) {
		this(requestId, runId, userId, conversationId, reason, replyTo, requestedAt, null);
	}

}
