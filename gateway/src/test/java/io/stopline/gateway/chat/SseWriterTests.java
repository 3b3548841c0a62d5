package io.stopline.gateway.chat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import io.stopline.core.run.RunRecord;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/** Each SSE event carries the id of the tokens the client holds with it. */
class SseWriterTests {

	private static final JsonMapper MAPPER = JsonMapper.builder()
		.propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
		.build();

	private final RunRecord run = RunRecord.queued("run-1", "alice", "c-1", "assistant", "g-1",
			Instant.parse("2026-12-05T14:00:00Z"));

	@Test
	void everyEventCarriesTheIndexSetLast() throws Exception {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		SseWriter sse = new SseWriter(out, MAPPER, run);

		for (int index : new int[] { 0, 9, 10, 99, 100, 12345, Integer.MAX_VALUE }) {
			sse.at(index);
			sse.delta("x");
		}
		sse.done();
		sse.flush();

		String chunk = MAPPER.writeValueAsString(ChatChunks.delta(run, null, "x"));
		StringBuilder expected = new StringBuilder();
		for (String index : new String[] { "0", "9", "10", "99", "100", "12345", "2147483647" }) {
			expected.append("id: run-1:").append(index).append("\ndata: ").append(chunk).append("\n\n");
		}
		expected.append("id: run-1:2147483647\ndata: [DONE]\n\n");
		assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(expected.toString());
	}

	@Test
	void aNegativeIndexIsRefused() {
		SseWriter sse = new SseWriter(new ByteArrayOutputStream(), MAPPER, run);

		assertThatIllegalArgumentException().isThrownBy(() -> sse.at(-1));
	}

}
