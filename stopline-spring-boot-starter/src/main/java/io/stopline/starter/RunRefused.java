package io.stopline.starter;

/**
 * A run could not be registered; the stream it wraps was never subscribed.
 */
public class RunRefused extends RuntimeException {

	private final Cause cause;

	RunRefused(Cause cause, String message) {
		super(message);
		this.cause = cause;
	}

	public Cause reason() {
		return cause;
	}

	/** Why. */
	public enum Cause {

		/** the conversation already has an active run */
		BUSY,
		/** the run id is taken: that run has ended */
		ENDED

	}

}
