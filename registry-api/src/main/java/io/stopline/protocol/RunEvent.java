package io.stopline.protocol;

import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * Events a worker publishes to a gateway's inbox about one run. Past tense: each says
 * what happened.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({ @JsonSubTypes.Type(value = RunEvent.RunStarted.class, name = "run_started"),
		@JsonSubTypes.Type(value = RunEvent.TokenGenerated.class, name = "token"),
		@JsonSubTypes.Type(value = RunEvent.RunCompleted.class, name = "run_completed"),
		@JsonSubTypes.Type(value = RunEvent.RunStopped.class, name = "run_stopped"),
		@JsonSubTypes.Type(value = RunEvent.RunFailed.class, name = "run_failed"),
		@JsonSubTypes.Type(value = RunEvent.StopIgnored.class, name = "stop_ignored") })
public sealed interface RunEvent {

	String runId();

	String conversationId();

	Instant at();

	/** True for the events after which the run produces nothing more. */
	default boolean isTerminal() {
		return this instanceof RunCompleted || this instanceof RunStopped || this instanceof RunFailed;
	}

	record RunStarted(String runId, String conversationId, String workerId, Instant at) implements RunEvent {
	}

	record TokenGenerated(String runId, String conversationId, int index, String text, Instant at) implements RunEvent {
	}

	record RunCompleted(String runId, String conversationId, String content, int tokens,
			Instant at) implements RunEvent {
	}

	/**
	 * The run was cancelled; {@code content} is the partial answer kept in the history.
	 */
	record RunStopped(String runId, String conversationId, String reason, String content, int tokens,
			Instant at) implements RunEvent {
	}

	record RunFailed(String runId, String conversationId, String error, String content,
			Instant at) implements RunEvent {
	}

	/**
	 * A stop reached the worker but did not cancel anything.
	 *
	 * @param cause {@code completed}: the run finished before the stop could take it;
	 * {@code not_running}: the worker holds no such run
	 */
	record StopIgnored(String runId, String conversationId, String cause, Instant at) implements RunEvent {
	}

}
