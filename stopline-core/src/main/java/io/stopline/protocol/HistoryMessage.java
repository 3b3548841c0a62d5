package io.stopline.protocol;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * One entry of a conversation's history.
 *
 * @param role {@code user}, {@code assistant} or {@code system} (the stop notice)
 * @param status {@code complete}, {@code stopped}, {@code failed} or {@code interrupted}
 * @param stopReason why a run was stopped ({@code user}, {@code stop_all}, ...), null
 * otherwise
 * @param error what went wrong, for a {@code failed} or {@code interrupted} run
 */
public record HistoryMessage(String role, String content, String status, @Nullable String stopReason,
		@Nullable String error, @Nullable String runId, Instant createdAt) {

	/** The status of a message that is whole (a user message, a finished answer). */
	public static final String COMPLETE = "complete";

	public static final String STOP_NOTICE = "Conversation stopped by user.";

	/** The status of an assistant message announced while its run still generates. */
	public static final String STREAMING = "streaming";

	/** The assistant message of a run that just started (not stored until it ends). */
	public static HistoryMessage streaming(String runId, Instant at) {
		return new HistoryMessage("assistant", "", STREAMING, null, null, runId, at);
	}

	public static HistoryMessage user(String content, String runId, Instant at) {
		return new HistoryMessage("user", content, COMPLETE, null, null, runId, at);
	}
}
