package io.stopline.protocol;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What became of one tool call of a run, as the history, the stop event and the tool
 * events tell it. Never the result itself: its size only.
 *
 * @param id the call's id (the model's {@code tool_call_id})
 * @param name the tool as the model named it ({@code <server>__<tool>})
 * @param arguments the arguments the model gave, as JSON text
 * @param status what is known of its side effect
 * @param durationMillis from the call's start until its result, its cancellation or its
 * failure
 * @param resultChars the size of the result in characters, 0 without one
 */
public record ToolCallRecord(String id, String name, String arguments, Status status, long durationMillis,
		int resultChars) {

	/** Whether the tool acted, as far as the worker can know. */
	public enum Status {

		/** the result arrived: the side effect happened */
		@JsonProperty("completed")
		COMPLETED,
		/** the run stopped before a result arrived: the tool may or may not have acted */
		@JsonProperty("cancelled_before_result")
		CANCELLED_BEFORE_RESULT,
		/** the server answered with an error, or the call could not be made */
		@JsonProperty("failed")
		FAILED,
		/** no result within the server's deadline; the call was cancelled */
		@JsonProperty("timed_out")
		TIMED_OUT,
		/** the agent may not use this tool: never sent */
		@JsonProperty("refused")
		REFUSED;

		public String wireName() {
			return name().toLowerCase(java.util.Locale.ROOT);
		}

	}

}
