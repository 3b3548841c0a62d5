package io.stopline.protocol;

import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonInclude;
import org.jspecify.annotations.Nullable;

/**
 * One entry of a conversation's history.
 *
 * @param role {@code user}, {@code assistant} or {@code system} (the stop notice)
 * @param status {@code complete}, {@code stopped}, {@code failed} or {@code interrupted}
 * @param stopReason why a run was stopped ({@code user}, {@code stop_all}, ...), null
 * otherwise
 * @param error what went wrong, for a {@code failed} or {@code interrupted} run
 * @param toolCall for a {@code tool} message: the call, and what became of it (the status
 * is then the call's: {@code completed}, {@code cancelled_before_result}, ...)
 */
public record HistoryMessage(String role, String content, String status, @Nullable String stopReason,
		@Nullable String error, @Nullable String runId, Instant createdAt,
		@JsonInclude(JsonInclude.Include.NON_NULL) @Nullable ToolCallRecord toolCall) {

	public HistoryMessage(String role, String content, String status, @Nullable String stopReason,
			@Nullable String error, @Nullable String runId, Instant createdAt) {
		this(role, content, status, stopReason, error, runId, createdAt, null);
	}

	/**
	 * A tool call of a run and its result ({@code result} empty when none arrived).
	 */
	public static HistoryMessage tool(ToolCallRecord call, String result, String runId, Instant at) {
		return new HistoryMessage("tool", result, call.status().wireName(), null, null, runId, at, call);
	}

	/** The status of a message that is whole (a user message, a finished answer). */
	public static final String COMPLETE = "complete";

	public static final String STOP_NOTICE = StopReason.USER.notice();

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
