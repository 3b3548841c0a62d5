package io.stopline.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * How a run ended: the {@code status} of its assistant message in the history, the
 * outcome counted in the statistics and named in the terminal events. On the wire each is
 * its {@link #wireName()}.
 */
public enum RunStatus {

	/** the model finished its answer */
	COMPLETE(HistoryMessage.COMPLETE),
	/** a stop ended it; the partial answer is kept, followed by the stop notice */
	STOPPED("stopped"),
	/** the model failed; the partial answer is kept with the error */
	FAILED("failed"),
	/** its worker died and the run was reaped; nothing of the answer was recorded */
	INTERRUPTED("interrupted");

	private final String wireName;

	RunStatus(String wireName) {
		this.wireName = wireName;
	}

	/** The name in JSON, the history and the statistics. */
	@JsonValue
	public String wireName() {
		return wireName;
	}

	/** Parses a wire name; an unknown one is an error (outcomes are a closed set). */
	@JsonCreator
	public static RunStatus of(String wireName) {
		for (RunStatus status : values()) {
			if (status.wireName.equals(wireName)) {
				return status;
			}
		}
		throw new IllegalArgumentException("unknown run status: " + wireName);
	}

}
