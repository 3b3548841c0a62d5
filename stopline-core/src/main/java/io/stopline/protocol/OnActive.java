package io.stopline.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * What a chat request asks for when its conversation already has an active run (the
 * request field {@code on_active}).
 */
public enum OnActive {

	/** refuse the new message (409): the default */
	REJECT("reject"),
	/**
	 * stop the active run (reason {@code superseded}), keep its partial answer and
	 * notice, then start the new run
	 */
	INTERRUPT("interrupt"),
	/**
	 * stop the active run and remove its partial answer, its notice and its user message
	 * from the history, then start the new run
	 */
	ROLLBACK("rollback"),
	/** start the new run once the active one ends */
	ENQUEUE("enqueue");

	private final String wireName;

	OnActive(String wireName) {
		this.wireName = wireName;
	}

	@JsonValue
	public String wireName() {
		return wireName;
	}

	/** Replaces the active run (as opposed to waiting for its end). */
	public boolean replaces() {
		return this == INTERRUPT || this == ROLLBACK;
	}

	/** Parses a wire name; an unknown one is an error. */
	@JsonCreator
	public static OnActive of(String wireName) {
		for (OnActive mode : values()) {
			if (mode.wireName.equals(wireName)) {
				return mode;
			}
		}
		throw new IllegalArgumentException("unknown on_active '" + wireName + "'");
	}

	@Override
	public String toString() {
		return wireName;
	}

}
