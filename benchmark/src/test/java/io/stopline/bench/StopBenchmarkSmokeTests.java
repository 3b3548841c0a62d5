package io.stopline.bench;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The benchmark's small run, so it cannot rot: every phase runs against a real cluster
 * and reports.
 */
class StopBenchmarkSmokeTests {

	@Test
	void theSmokeProfileMeasuresEveryPhase() throws Exception {
		Path out = Path.of("target", "bench", "results-smoke.json");
		Map<String, Object> results = new StopBenchmark(BenchProfile.of("smoke"),
				Path.of(System.getProperty("stopline.gateway.jar")), Path.of(System.getProperty("stopline.worker.jar")))
			.run(out);

		assertThat(results).containsKeys("floor_redis_ping", "floor_publish_to_receive",
				"floor_noop_authenticated_endpoint", "active_listing_by_total_runs", "confirmed_stop_by_worker_count",
				"redis_memory", "confirmed_stop_rounds", "confirmed_stop_median_of_rounds",
				"propagation_from_worker_histograms_ms", "confirmed_stop_ratios", "stop_throughput_steps",
				"chat_starts", "registration_overhead_per_run", "stop_under_subscription_kills", "warm_up",
				"floor_noop_endpoint_jdk_httpclient", "floor_noop_endpoint_under_load", "confirmed_stop_jdk_httpclient",
				"floor_redis_ping_through_client", "floor_publish_to_listener_through_client",
				"redis_commands_per_sequential_stop", "cpu_ms_per_noop_request", "noop_throughput_steps",
				"throughput_warm_up");
		assertThat(out).exists();
	}

}
