package io.stopline.protocol;

import java.time.Instant;

/**
 * Command from a gateway to the worker that owns a run: pause it or resume it. Published
 * on {@code stopline:{w:<worker>}:control} only (not recorded): a lost one leaves the run
 * as it was, the gateway answers 202 and the client may repeat it.
 *
 * @param action {@link #PAUSE}, {@link #RESUME} or {@link #SNAPSHOT}
 * @param replyTo the gateway waiting for the answer
 */
public record RunControl(String action, String runId, String userId, String conversationId, String replyTo,
		Instant requestedAt) {

	public static final String PAUSE = "pause";

	public static final String RESUME = "resume";

	/**
	 * A WebSocket started watching the conversation: publish the answer so far on its
	 * event channel, and its tokens from now on.
	 */
	public static final String SNAPSHOT = "snapshot";

}
