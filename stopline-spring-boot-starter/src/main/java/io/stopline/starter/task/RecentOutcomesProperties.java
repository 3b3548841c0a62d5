package io.stopline.starter.task;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code stopline.worker.recent-outcomes.*}: how long a worker remembers the outcomes it
 * wrote, to write one again that a failover lost (see {@link RecentOutcomes}).
 *
 * @param retention how long an outcome is kept after its write: longer than a failover
 * takes to be noticed (Sentinel's {@code down-after-milliseconds} for a dead master) plus
 * two ownership checks
 * @param maxRuns the most outcomes kept (the oldest go first), which bounds the memory
 * they take
 */
@ConfigurationProperties("stopline.worker.recent-outcomes")
public record RecentOutcomesProperties(@DefaultValue("2m") Duration retention, @DefaultValue("10000") int maxRuns) {

	public RecentOutcomesProperties {
		if (retention.isNegative()) {
			throw new IllegalArgumentException("stopline.worker.recent-outcomes.retention must not be negative");
		}
		if (maxRuns < 0) {
			throw new IllegalArgumentException("stopline.worker.recent-outcomes.max-runs must not be negative");
		}
	}

}
