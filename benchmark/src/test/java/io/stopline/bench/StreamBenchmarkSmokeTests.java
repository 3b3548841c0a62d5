package io.stopline.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The streaming profile's small run ({@code stream-smoke}), so it cannot rot: chats
 * streaming to attached clients, stops while they stream, the floor relay beside them, a
 * send/stop burst and chat starts. Figures are printed, not asserted on time.
 */
class StreamBenchmarkSmokeTests {

	@Test
	void theStreamingSmokeProfileMeasuresEveryStepBesideItsFloor() throws Exception {
		Path out = Path.of("target", "bench", "results-stream-smoke.json");
		Map<String, Object> results = new StreamBenchmark("stream-smoke",
				Path.of(System.getProperty("stopline.gateway.jar")), Path.of(System.getProperty("stopline.worker.jar")))
			.run(out);

		assertThat(results).containsKeys("warm_up", "steps", "send_stop_burst", "chat_start_rates");
		List<?> steps = (List<?>) results.get("steps");
		assertThat(steps).isNotEmpty();
		@SuppressWarnings("unchecked")
		Map<String, Object> first = (Map<String, Object>) steps.get(0);
		assertThat(first).containsKeys("tokens_per_s", "cpu_us_per_token", "delivery", "stop", "start_overhead",
				"errors", "floor_relay", "ratio_to_floor");
		assertThat(((Number) first.get("tokens_per_s")).longValue()).as("tokens reached the clients").isPositive();
		long receipts = steps.stream()
			.mapToLong(
					step -> ((Number) ((Map<?, ?>) ((Map<?, ?>) step).get("stop_stages")).get("confirmed")).longValue())
			.sum();
		assertThat(receipts).as("stops confirmed with their receipt, split into stages").isPositive();
		Map<?, ?> listingFloor = (Map<?, ?>) ((Map<?, ?>) first.get("stop_floors")).get("listing_same_port");
		assertThat(((Number) listingFloor.get("samples")).intValue()).as("the stops' floor measured beside them")
			.isPositive();
		assertThat((Map<?, ?>) first.get("errors")).as("no error while streaming").isEmpty();
		long watcherMessages = steps.stream()
			.mapToLong(step -> ((Number) ((Map<?, ?>) step).get("websocket_token_messages_per_s")).longValue())
			.sum();
		assertThat(watcherMessages).as("the watched chats' tokens reached their WebSockets").isPositive();
		Map<?, ?> burst = (Map<?, ?>) results.get("send_stop_burst");
		assertThat(((Map<?, ?>) burst.get("stop_statuses")).keySet()).as("a burst of send/stop pairs: never a 5xx")
			.allMatch(status -> ((Number) status).intValue() < 500 && ((Number) status).intValue() > 0);
		assertThat(out).exists();
	}

}
