package io.stopline.protocol;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import org.jspecify.annotations.Nullable;

/**
 * Events about one run, published to the inbox of the gateway that waits for them and to
 * the conversation's event channel. Past tense: each says what happened.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({ @JsonSubTypes.Type(value = RunEvent.RunStarted.class, name = "run_started"),
		@JsonSubTypes.Type(value = RunEvent.TokenGenerated.class, name = "token"),
		@JsonSubTypes.Type(value = RunEvent.RunCompleted.class, name = "run_completed"),
		@JsonSubTypes.Type(value = RunEvent.RunStopped.class, name = "run_stopped"),
		@JsonSubTypes.Type(value = RunEvent.RunFailed.class, name = "run_failed"),
		@JsonSubTypes.Type(value = RunEvent.StopIgnored.class, name = "stop_ignored"),
		@JsonSubTypes.Type(value = RunEvent.RunPaused.class, name = "run_paused"),
		@JsonSubTypes.Type(value = RunEvent.RunResumed.class, name = "run_resumed"),
		@JsonSubTypes.Type(value = RunEvent.ControlIgnored.class, name = "control_ignored"),
		@JsonSubTypes.Type(value = RunEvent.MessageAdded.class, name = "message_added"),
		@JsonSubTypes.Type(value = RunEvent.RunSnapshot.class, name = "run_snapshot"),
		@JsonSubTypes.Type(value = RunEvent.ToolCallStarted.class, name = "tool_call_started"),
		@JsonSubTypes.Type(value = RunEvent.ToolCallFinished.class, name = "tool_call_finished") })
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

	/**
	 * A frame of {@code count} consecutive tokens, the first of which has index
	 * {@code index}; {@code text} is their concatenation. A run's tokens travel in frames
	 * (one publish per frame, see the worker's token outbox); the next frame starts at
	 * {@code index + count}.
	 */
	record TokenGenerated(String runId, String conversationId, int index, String text, int count,
			Instant at) implements RunEvent {

		public TokenGenerated {
			// a frame from a node that does not send the count carries one token
			count = Math.max(1, count);
		}

		public TokenGenerated(String runId, String conversationId, int index, String text, Instant at) {
			this(runId, conversationId, index, text, 1, at);
		}

		/** The index the next frame starts at. */
		public int next() {
			return index + count;
		}

	}

	record RunCompleted(String runId, String conversationId, String content, int tokens,
			Instant at) implements RunEvent {
	}

	/**
	 * The run was cancelled; {@code content} is the partial answer kept in the history,
	 * {@code tokens} its token count; {@code receipt} the stop's stages (absent when the
	 * end was read back from the history); {@code toolCalls} what became of each tool
	 * call the run made (empty without).
	 */
	record RunStopped(String runId, String conversationId, StopReason reason, String content, int tokens, Instant at,
			@Nullable StopReceipt receipt,
			@JsonInclude(JsonInclude.Include.NON_EMPTY) List<ToolCallRecord> toolCalls) implements RunEvent {

		public RunStopped {
			toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
		}

		public RunStopped(String runId, String conversationId, StopReason reason, String content, int tokens,
				Instant at) {
			this(runId, conversationId, reason, content, tokens, at, null, List.of());
		}

	}

	/**
	 * The model asked for a tool call and the worker made it. {@code index} numbers the
	 * run's calls from 0 (the {@code index} of the OpenAI {@code tool_calls} delta).
	 */
	record ToolCallStarted(String runId, String conversationId, int index, String callId, String name, String arguments,
			Instant at) implements RunEvent {
	}

	/**
	 * A tool call ended: its status, how long it took and the size of its result (never
	 * the result itself).
	 */
	record ToolCallFinished(String runId, String conversationId, int index, String callId, String name,
			ToolCallRecord.Status status, long durationMillis, int resultChars, Instant at) implements RunEvent {
	}

	record RunFailed(String runId, String conversationId, String error, String content,
			Instant at) implements RunEvent {
	}

	/**
	 * The run stopped emitting; it holds its place (and its upstream stream) until
	 * resumed.
	 */
	record RunPaused(String runId, String conversationId, Instant at) implements RunEvent {
	}

	record RunResumed(String runId, String conversationId, Instant at) implements RunEvent {
	}

	/**
	 * The answer so far of a running run, for watchers that joined mid-run:
	 * {@code tokens} tokens make {@code content}; the next token has index
	 * {@code tokens}. {@code offsets} say where its frames end in {@code content}, so a
	 * resumed chat stream can start after any token index a client saw (null from a
	 * worker that does not send them).
	 */
	record RunSnapshot(String runId, String conversationId, String content, int tokens, Instant at,
			@Nullable TokenOffsets offsets) implements RunEvent {

		public RunSnapshot(String runId, String conversationId, String content, int tokens, Instant at) {
			this(runId, conversationId, content, tokens, at, null);
		}

	}

	/**
	 * A pause or resume reached the worker but changed nothing.
	 *
	 * @param cause {@code not_running}, {@code already_paused}, {@code not_paused},
	 * {@code ending}
	 */
	record ControlIgnored(String runId, String conversationId, String action, String cause,
			Instant at) implements RunEvent {
	}

	/**
	 * A message of the conversation: the user's (when the run is accepted), the
	 * assistant's when it starts (status {@code streaming}, empty) and when it ends, the
	 * stop notice.
	 */
	record MessageAdded(String runId, String conversationId, HistoryMessage message, Instant at) implements RunEvent {
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
