package io.stopline.core.run;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.stopline.protocol.RunStatus;
import io.stopline.protocol.StopReason;
import org.jspecify.annotations.Nullable;

import io.stopline.protocol.HistoryMessage;

/**
 * How a run ended, and what it leaves in the history.
 *
 * @param content the assistant text produced, partial unless complete
 * @param stopReason set when {@code status} is {@code stopped}
 * @param tools the run's tool calls with their results, in the order they were made (they
 * come before the answer in the history)
 */
public record RunOutcome(RunStatus status, String content, @Nullable StopReason stopReason, @Nullable String error,
		Instant at, List<HistoryMessage> tools) {

	public RunOutcome {
		tools = tools == null ? List.of() : List.copyOf(tools);
	}

	public RunOutcome(RunStatus status, String content, @Nullable StopReason stopReason, @Nullable String error,
			Instant at) {
		this(status, content, stopReason, error, at, List.of());
	}

	/** The same outcome with the run's tool calls. */
	public RunOutcome withTools(List<HistoryMessage> tools) {
		return new RunOutcome(status, content, stopReason, error, at, tools);
	}

	/** The error of a run whose worker stopped responding (reaped). */
	public static final String LOST = "The worker running this conversation stopped responding; the answer was interrupted.";

	public static RunOutcome complete(String content, Instant at) {
		return new RunOutcome(RunStatus.COMPLETE, content, null, null, at);
	}

	public static RunOutcome stopped(String partial, StopReason reason, Instant at) {
		return new RunOutcome(RunStatus.STOPPED, partial, reason, null, at);
	}

	public static RunOutcome failed(String partial, String error, Instant at) {
		return new RunOutcome(RunStatus.FAILED, partial, null, error, at);
	}

	public static RunOutcome interrupted(Instant at) {
		return new RunOutcome(RunStatus.INTERRUPTED, "", null, LOST, at);
	}

	/** The notice that follows a stopped answer, naming why it stopped. */
	String notice() {
		return stopReason == null ? StopReason.USER.notice() : stopReason.notice();
	}

	public boolean isStopped() {
		return status == RunStatus.STOPPED;
	}

	/**
	 * The run's tool calls, the assistant message, and the stop notice when the run was
	 * stopped.
	 */
	public List<HistoryMessage> messages(String runId) {
		List<HistoryMessage> messages = new ArrayList<>(tools.size() + 2);
		messages.addAll(tools);
		String reason = stopReason == null ? null : stopReason.wireName();
		messages.add(new HistoryMessage("assistant", content, status.wireName(), reason, error, runId, at));
		if (isStopped()) {
			messages.add(new HistoryMessage("system", notice(), HistoryMessage.COMPLETE, reason, null, runId, at));
		}
		return messages;
	}
}
