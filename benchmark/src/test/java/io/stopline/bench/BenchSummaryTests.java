package io.stopline.bench;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BenchSummaryTests {

	@Test
	void eachFigureIsTheMedianOverTheRunsWithItsSpread() {
		List<Map<String, Object>> runs = List.of(run(2.4, 500), run(1.1, 700), run(1.9, 600));

		Map<String, Object> summary = BenchSummary.of(runs);

		assertThat(summary.get("runs")).isEqualTo(3);
		assertThat(summary.get("confirmed_stop_median_of_rounds.p50_ms"))
			.isEqualTo(Map.of("median", 1.9, "spread", List.of(1.1, 2.4)));
		assertThat(summary.get("stop_throughput_max_sustained_per_s"))
			.isEqualTo(Map.of("median", 600.0, "spread", List.of(500.0, 700.0)));
		assertThat(summary).as("figures no run has are left out").doesNotContainKey("chat_starts.starts_per_s");
	}

	private static Map<String, Object> run(double p50, int sustained) {
		return Map.of("confirmed_stop_median_of_rounds", Map.of("p50_ms", p50), "stop_throughput_max_sustained_per_s",
				sustained);
	}

}
