package io.stopline.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The headline figures of several runs of one profile: per figure the median over the
 * runs and the spread (lowest, highest). The machine is shared and noisy, so a single
 * run's figure is an anecdote; BENCHMARKS.md reports these.
 */
final class BenchSummary {

	/** Paths into a run's results, dot-separated. */
	static final List<String> FIGURES = List.of("floor_redis_ping.p50_ms", "floor_publish_to_receive.p50_ms",
			"floor_redis_ping_through_client.p50_ms", "floor_publish_to_listener_through_client.p50_ms",
			"floor_noop_authenticated_endpoint.p50_ms", "floor_noop_endpoint_under_load.p50_ms",
			"confirmed_stop_median_of_rounds.p50_ms", "confirmed_stop_median_of_rounds.p90_ms",
			"confirmed_stop_median_of_rounds.p99_ms", "confirmed_stop_median_of_rounds.p999_ms",
			"confirmed_stop_ratios.p50_over_redis_ping_p50",
			"confirmed_stop_ratios.p50_over_redis_ping_through_client_p50",
			"confirmed_stop_ratios.p50_over_noop_endpoint_p50",
			"confirmed_stop_ratios.p50_over_noop_endpoint_under_load_p50",
			"propagation_from_worker_histograms_ms.cancelled.p50_ms_at_most",
			"propagation_from_worker_histograms_ms.cancelled.p99_ms_at_most",
			"propagation_from_worker_histograms_ms.unregistered.p50_ms_at_most",
			"propagation_from_worker_histograms_ms.unregistered.p99_ms_at_most",
			"stop_throughput_sustained_per_s_with_p99_under_10ms", "stop_throughput_max_sustained_per_s",
			"chat_starts.starts_per_s", "active_listing_by_total_runs.1000.p99_ms",
			"active_listing_by_total_runs.10000.p99_ms", "active_listing_by_total_runs.100000.p99_ms",
			"confirmed_stop_by_worker_count.1.p50_ms", "confirmed_stop_by_worker_count.3.p50_ms",
			"confirmed_stop_by_worker_count.6.p50_ms", "confirmed_stop_by_worker_count.1.p99_ms",
			"confirmed_stop_by_worker_count.3.p99_ms", "confirmed_stop_by_worker_count.6.p99_ms",
			"redis_memory.ownership_record_bytes_per_run", "redis_memory.worker_index_bytes_per_run",
			"redis_memory.used_memory_delta_bytes_per_run", "registration_overhead_per_run.p50_ms",
			"registration_overhead_per_run.p99_ms", "stop_under_subscription_kills.p99_ms",
			"stop_under_subscription_kills.max_ms", "redis_commands_per_sequential_stop.scripts_us");

	private BenchSummary() {
	}

	static Map<String, Object> of(List<Map<String, Object>> runs) {
		Map<String, Object> summary = new LinkedHashMap<>();
		summary.put("runs", runs.size());
		for (String figure : FIGURES) {
			List<Double> values = new ArrayList<>();
			for (Map<String, Object> run : runs) {
				Object value = at(run, figure);
				if (value instanceof Number number && !Double.isNaN(number.doubleValue())) {
					values.add(number.doubleValue());
				}
			}
			if (values.isEmpty()) {
				continue;
			}
			values.sort(null);
			Map<String, Object> stats = new LinkedHashMap<>();
			stats.put("median", Latencies.round(median(values)));
			stats.put("spread", List.of(values.get(0), values.get(values.size() - 1)));
			summary.put(figure, stats);
		}
		return summary;
	}

	private static double median(List<Double> sorted) {
		int n = sorted.size();
		return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
	}

	@SuppressWarnings("unchecked")
	private static Object at(Map<String, Object> run, String path) {
		Object current = run;
		for (String part : path.split("\\.")) {
			if (!(current instanceof Map<?, ?> map)) {
				return null;
			}
			current = ((Map<String, Object>) map).get(part);
		}
		return current;
	}

}
