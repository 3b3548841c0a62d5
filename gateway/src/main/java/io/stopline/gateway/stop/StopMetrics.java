package io.stopline.gateway.stop;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.stopline.registry.StopStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;

/**
 * Counts every stop request by endpoint and outcome, times it end to end as the gateway
 * sees it, and adds it to the cluster-wide statistics in Redis.
 */
@Component
class StopMetrics {

	private static final Logger log = LoggerFactory.getLogger(StopMetrics.class);

	private final MeterRegistry meters;

	private final StopStats stats;

	private final Executor cleanup;

	StopMetrics(MeterRegistry meters, StopStats stats, ExecutorService registryCleanup) {
		this.cleanup = registryCleanup;
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
		Instant at = Instant.now();
		// off the answer's path: the caller is not kept waiting for a statistics round
		// trip
		cleanup.execute(() -> {
			try {
				stats.stopRequested(outcome, at);
			}
			catch (RuntimeException ex) {
				log.warn("could not count a stop in the statistics: {}", ex.toString());
			}
		});
	}

	static String outcome(StopResult result) {
		return result.name().toLowerCase(java.util.Locale.ROOT);
	}

}
