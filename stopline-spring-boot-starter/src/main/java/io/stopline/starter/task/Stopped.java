package io.stopline.starter.task;

import java.time.Instant;
import java.util.List;

import io.stopline.protocol.StopReason;
import org.jspecify.annotations.Nullable;

/**
 * A stop that won the race against the run's completion, as the {@link StopLatch} hands
 * it to the runner once generation has ended: everything the finish needs to persist and
 * then announce the stopped run, read once.
 *
 * @param reason why it stopped (the first accepted request's)
 * @param requestedAt when the stop was asked for, at its origin
 * @param deliveredAt when it reached this worker's task
 * @param cancelledAt when generation ended
 * @param replyTo the gateways that asked so far, which wait for the confirmation
 * @param recordedStops the recorded stop requests heard so far (exact stop-set members),
 * cleared with the outcome's write
 * @param seenTokens the tokens the stopping client displayed (the answer kept is cut to
 * them), or null
 */
record Stopped(StopReason reason, Instant requestedAt, Instant deliveredAt, Instant cancelledAt, List<String> replyTo,
		List<String> recordedStops, @Nullable Integer seenTokens) {

	Stopped {
		replyTo = List.copyOf(replyTo);
		recordedStops = List.copyOf(recordedStops);
	}

	/**
	 * The requests that arrived after this value was taken (while the outcome was being
	 * written): the gateways still to tell and the recorded requests still to clear.
	 */
	record Late(List<String> replyTo, List<String> recordedStops) {

		Late {
			replyTo = List.copyOf(replyTo);
			recordedStops = List.copyOf(recordedStops);
		}

	}

}
