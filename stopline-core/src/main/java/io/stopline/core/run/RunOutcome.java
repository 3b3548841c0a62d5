package io.stopline.core.run;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

import io.stopline.protocol.HistoryMessage;

/**
 * How a run ended, and what it leaves in the history.
 *
 * @param content the assistant text produced, partial unless complete
 * @param stopReason set when {@code status} is {@code stopped}
 */
public record RunOutcome(String status, String content, @Nullable String stopReason, @Nullable String error,
		Instant at) {

	public static final String COMPLETE = HistoryMessage.COMPLETE;

	public static final String STOPPED = "stopped";

	public static final String FAILED = "failed";

	public static final String INTERRUPTED = "interrupted";

	/** The error of a run whose worker stopped responding (reaped). */
	public static final String LOST = "The worker running this conversation stopped responding; the answer was interrupted.";

	public static RunOutcome complete(String content, Instant at) {
		return new RunOutcome(COMPLETE, content, null, null, at);
	}

	public static RunOutcome stopped(String partial, String reason, Instant at) {
		return new RunOutcome(STOPPED, partial, reason, null, at);
	}

	public static RunOutcome failed(String partial, String error, Instant at) {
		return new RunOutcome(FAILED, partial, null, error, at);
	}

	public static RunOutcome interrupted(Instant at) {
		return new RunOutcome(INTERRUPTED, "", null, LOST, at);
	}

	/** The notice that follows a stopped answer, naming why it stopped. */
	String notice() {
		return switch (String.valueOf(stopReason)) {
			case "timeout" -> "Conversation stopped: it ran past its time limit.";
			case "shutdown" -> "Conversation stopped: the server running it shut down.";
			case "lost" -> "Conversation stopped: its run was lost.";
			case "admin" -> "Conversation stopped by an administrator.";
			default -> HistoryMessage.STOP_NOTICE;
		};
	}

	public boolean isStopped() {
		return STOPPED.equals(status);
	}

	/** The assistant message, followed by the stop notice when the run was stopped. */
	public List<HistoryMessage> messages(String runId) {
		List<HistoryMessage> messages = new ArrayList<>(2);
		messages.add(new HistoryMessage("assistant", content, status, stopReason, error, runId, at));
		if (isStopped()) {
			messages.add(new HistoryMessage("system", notice(), COMPLETE, stopReason, null, runId, at));
		}
		return messages;
	}
}
