package io.stopline.protocol;

import java.time.Instant;
import java.util.List;

import io.stopline.core.run.RunOutcome;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tool calls in the stored and published JSON: the statuses' wire names, nothing added to
 * messages and events without tool calls, and the tool messages' place in the history.
 */
class ToolCallJsonTests {

	private static final Instant AT = Instant.parse("2026-12-04T17:00:00Z");

	private static final ToolCallRecord CANCELLED = new ToolCallRecord("call_0", "files__read", "{\"path\":\"a\"}",
			ToolCallRecord.Status.CANCELLED_BEFORE_RESULT, 12, 0);

	@Test
	void aToolMessageCarriesItsCallAndRoundTrips() {
		HistoryMessage message = HistoryMessage.tool(CANCELLED, "", "run-1", AT);

		String json = Json.write(message);

		assertThat(json).contains("\"status\":\"cancelled_before_result\"").contains("\"role\":\"tool\"");
		assertThat(Json.read(json, HistoryMessage.class)).isEqualTo(message);
	}

	@Test
	void messagesAndStopsWithoutToolCallsKeepTheirJson() {
		assertThat(Json.write(HistoryMessage.user("hi", "run-1", AT))).doesNotContain("toolCall");
		RunEvent stopped = new RunEvent.RunStopped("run-1", "c", StopReason.USER, "part", 1, AT);
		assertThat(Json.write(stopped)).doesNotContain("toolCalls");
		assertThat(((RunEvent.RunStopped) Json.read(Json.write(stopped), RunEvent.class)).toolCalls()).isEmpty();
	}

	@Test
	void aStopListsWhatBecameOfEachCall() {
		RunEvent stopped = new RunEvent.RunStopped("run-1", "c", StopReason.USER, "part", 1, AT, null,
				List.of(CANCELLED));

		RunEvent read = Json.read(Json.write(stopped), RunEvent.class);

		assertThat(((RunEvent.RunStopped) read).toolCalls()).containsExactly(CANCELLED);
	}

	@Test
	void toolMessagesComeBeforeTheAnswerAndTheStopNotice() {
		RunOutcome outcome = RunOutcome.stopped("part", StopReason.USER, AT)
			.withTools(List.of(HistoryMessage.tool(CANCELLED, "", "run-1", AT)));

		assertThat(outcome.messages("run-1")).extracting(HistoryMessage::role)
			.containsExactly("tool", "assistant", "system");
	}

}
