package io.stopline.gateway.stream;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;

import io.stopline.protocol.RunEvent;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A token event's JSON is written by hand (it is the one event of every token): it must
 * be exactly what the mapper writes for the same fields, whatever the text holds.
 */
class StreamEventsTests {

	private static final JsonMapper MAPPER = JsonMapper.builder()
		.propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
		.build();

	@ParameterizedTest
	@ValueSource(strings = { "", "Hello", " every stop", "quote \" back\\slash / slash",
			"line\nbreak\ttab\r\u0000\u001f", "é ü 中文 🙂 \u2028\u2029", "{\"json\":[1,2]}", "</script><script>" })
	void aTokenIsWhatTheMapperWouldWrite(String text) {
		RunEvent.TokenGenerated frame = new RunEvent.TokenGenerated("run-1", "c \"42\" é", 12, text, 3,
				Instant.parse("2026-12-05T14:00:00.123456789Z"));

		Map<String, Object> json = new LinkedHashMap<>();
		json.put("type", "token");
		json.put("conversation_id", frame.conversationId());
		json.put("run_id", frame.runId());
		json.put("timestamp", frame.at().truncatedTo(ChronoUnit.MILLIS).toString());
		json.put("index", frame.index());
		json.put("delta", frame.text());
		json.put("count", frame.count());

		assertThat(new StreamEvents(MAPPER).toJson(frame)).contains(MAPPER.writeValueAsString(json));
		assertThat(MAPPER.readTree(StreamEvents.token(frame)).get("delta").asString()).isEqualTo(text);
	}

	@ParameterizedTest
	@ValueSource(strings = { "2026-12-05T14:00:00Z", "2026-12-05T14:00:00.100Z", "2026-12-05T14:00:00.000999Z" })
	void theTimestampHasTheMillisecondsAnInstantPrints(String at) {
		RunEvent.TokenGenerated frame = new RunEvent.TokenGenerated("run-1", "c-1", 0, "hi", 1, Instant.parse(at));

		assertThat(MAPPER.readTree(StreamEvents.token(frame)).get("timestamp").asString())
			.isEqualTo(Instant.parse(at).truncatedTo(ChronoUnit.MILLIS).toString());
	}

}
