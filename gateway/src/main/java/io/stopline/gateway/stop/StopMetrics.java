package io.stopline.gateway.stop;

import java.time.Duration;
import java.time.Instant;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.stopline.core.ops.StopStats;

import org.springframework.stereotype.Component;

/**
 * Counts every stop request by endpoint and outcome, times it end to end as the gateway
 * sees it, and adds it to the cluster-wide statistics in Redis.
 */
@Component
class StopMetrics {

	private final MeterRegistry meters;

	private final StopStats stats;

	StopMetrics(MeterRegistry meters, StopStats stats) {
		this.meters = meters;
		this.stats = stats;
	}

	void record(String endpoint, String outcome, long nanos) {
		Counter.builder("stopline.stop.requests")
			.description("Stop requests by endpoint and outcome")
			.tag("endpoint", endpoint)
			.tag("outcome", outcome)
			.register(meters)
			.increment();
		Timer.builder("stopline.stop.latency")
			.description("Stop request to answer, on the gateway")
			.tag("endpoint", endpoint)
			.publishPercentileHistogram()
			.minimumExpectedValue(Duration.ofNanos(100_000))
			.maximumExpectedValue(Duration.ofSeconds(5))
			.register(meters)
			.record(Duration.ofNanos(nanos));
		// counted in memory; the statistics reach Redis within a second
		stats.stopRequested(outcome, Instant.now());
	}

	static String outcome(StopResult result) {
		return result.name().toLowerCase(java.util.Locale.ROOT);
	}

}
