package io.stopline.core.liveness;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The sweep of runs queued without a job ({@code stopline.queue.*}), run by every node's
 * periodic reaper.
 *
 * @param withoutJobAfter a run still queued this long after it was reserved, with no job
 * in {@code stopline:jobs}, is ended as {@code failed} so its conversation takes new
 * messages: its job was never added (a reservation whose reply timed out after it ran) or
 * was lost (a failover that dropped an acknowledged {@code XADD}). Runs waiting behind a
 * backlog have their job and are never swept. Keep it above twice
 * {@code stopline.worker.ownership-check-interval}: a claim lost the same way leaves the
 * record {@code queued} with no job while a worker runs it, until that worker's ownership
 * check registers it again.
 */
@ConfigurationProperties("stopline.queue")
public record QueueSweepProperties(@DefaultValue("10s") Duration withoutJobAfter) {

	public QueueSweepProperties {
		if (withoutJobAfter.compareTo(Duration.ofSeconds(1)) < 0) {
			throw new IllegalArgumentException("stopline.queue.without-job-after must be at least 1s");
		}
	}

}
