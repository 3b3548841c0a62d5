package io.stopline.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * Where an active run is, as its ownership record says: the one vocabulary of the record,
 * the scripts that fence on it and the active listing. On the wire (JSON, the Lua
 * scripts) each state is its {@link #wireName()}.
 */
public enum RunState {

	/** reserved, waiting for a worker to claim it */
	QUEUED("queued"),
	/** claimed by a worker, generating */
	RUNNING("running"),
	/** claimed, holding its place (and its upstream) until resumed */
	PAUSED("paused");

	private final String wireName;

	RunState(String wireName) {
		this.wireName = wireName;
	}

	/** The name in JSON and in the Lua scripts. */
	@JsonValue
	public String wireName() {
		return wireName;
	}

	/** Parses a wire name; an unknown one is an error (states are a closed set). */
	@JsonCreator
	public static RunState of(String wireName) {
		for (RunState state : values()) {
			if (state.wireName.equals(wireName)) {
				return state;
			}
		}
		throw new IllegalArgumentException("unknown run state: " + wireName);
	}

}
