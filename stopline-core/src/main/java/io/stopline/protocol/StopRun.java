package io.stopline.protocol;

import java.time.Instant;

/**
 * Command from a gateway to the worker that owns a run: stop it. Recorded in the worker's
 * stop set before it is published, so a worker that missed the publish still finds it on
 * its next reconcile.
 *
 * @param requestId distinguishes two requests for the same run (their set members must
 * differ)
 * @param replyTo the gateway waiting for the confirmation
 * @param reason {@code user}, {@code stop_all}, ...
 */
public record StopRun(String requestId, String runId, String userId, String conversationId, String reason,
		String replyTo, Instant requestedAt) {
}
