package io.stopline.bench;

import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class StopStagesTests {

	private static final Instant SENT = Instant.parse("2026-12-05T10:00:00Z");

	@Test
	void aConfirmedStopIsSplitByItsReceiptAndTheSlowestStopsSayWhichStageMadeTheTail() {
		StopStages stages = new StopStages();
		for (int i = 0; i < 99; i++) {
			stages.add(nanos(0), nanos(10_000), receipt(1_000, 3_000, 4_000));
		}
		// one slow stop, slow on its way back
		stages.add(nanos(0), nanos(90_000), receipt(1_000, 3_000, 4_000));

		Map<String, Object> summary = stages.summary();

		assertThat(summary.get("confirmed")).isEqualTo(100);
		assertThat(summary.get("client_to_gateway")).isEqualTo(Map.of("p50_ms", 1.0, "p99_ms", 1.0));
		assertThat(summary.get("gateway_to_owner")).isEqualTo(Map.of("p50_ms", 2.0, "p99_ms", 2.0));
		assertThat(summary.get("owner_to_writing")).isEqualTo(Map.of("p50_ms", 1.0, "p99_ms", 1.0));
		assertThat(summary.get("writing_to_client")).isEqualTo(Map.of("p50_ms", 6.0, "p99_ms", 6.0));
		Map<?, ?> slowest = (Map<?, ?>) summary.get("slowest_mean");
		assertThat(slowest.get("stops")).isEqualTo(2);
		assertThat(slowest.get("writing_to_client_ms")).isEqualTo(46.0);
		assertThat(slowest.get("total_ms")).isEqualTo(50.0);
	}

	@Test
	void anAnswerWithoutAReceiptIsNotCounted() {
		StopStages stages = new StopStages();

		stages.add(nanos(0), nanos(5_000), "{\"status\":\"requested\",\"run_id\":\"r-1\"}");
		stages.add(nanos(0), nanos(5_000), "not json");

		assertThat(stages.summary()).isEqualTo(Map.of("confirmed", 0));
	}

	private static long nanos(long micros) {
		return StopStages.epochNanos(SENT) + micros * 1_000;
	}

	private static String receipt(long requestedMicros, long deliveredMicros, long persistedMicros) {
		return "{\"status\":\"stopped\",\"requested_at\":\"" + SENT.plusNanos(requestedMicros * 1_000)
				+ "\",\"delivered_at\":\"" + SENT.plusNanos(deliveredMicros * 1_000) + "\",\"persisted_at\":\""
				+ SENT.plusNanos(persistedMicros * 1_000) + "\"}";
	}

}
