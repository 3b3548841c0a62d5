package io.stopline.worker.queue;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How this worker takes jobs from the queue ({@code stopline.worker.*}, next to the
 * starter's settings of the runs themselves).
 *
 * @param maxConcurrentRuns runs this worker executes at once; it takes no more work from
 * the queue beyond that
 * @param orphanedJobIdle a queued job read by a worker that did not take it within this
 * time is taken by another
 */
@ConfigurationProperties("stopline.worker")
public record JobQueueProperties(@DefaultValue("256") int maxConcurrentRuns,
		@DefaultValue("30s") Duration orphanedJobIdle) {

	public JobQueueProperties {
		if (maxConcurrentRuns < 1) {
			throw new IllegalArgumentException("stopline.worker.max-concurrent-runs must be at least 1");
		}
	}

}
