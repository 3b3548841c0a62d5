package io.stopline.core.liveness;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;
import org.springframework.scheduling.TaskScheduler;

/**
 * Runs {@link DeadWorkerReaper#reapDead()}, and the sweep of runs queued without a job
 * ({@link DeadWorkerReaper#sweepQueued}), on a fixed delay while the node lives. Every
 * gateway and worker runs one: concurrent reapers are safe, and runs are cleaned up as
 * long as any node is alive.
 */
public final class PeriodicReaper implements SmartLifecycle {

	private static final Logger log = LoggerFactory.getLogger(PeriodicReaper.class);

	private final DeadWorkerReaper reaper;

	private final TaskScheduler scheduler;

	private final Duration interval;

	private @Nullable ScheduledFuture<?> ticking;

	private final Counter interrupted;

	public PeriodicReaper(DeadWorkerReaper reaper, TaskScheduler scheduler, Duration interval, MeterRegistry meters) {
		this.interrupted = Counter.builder("stopline.reaper.interrupted")
			.description("Runs of dead workers interrupted by this node's reaper")
			.register(meters);
		this.reaper = reaper;
		this.scheduler = scheduler;
		this.interval = interval;
	}

	@Override
	public synchronized void start() {
		ticking = scheduler.scheduleWithFixedDelay(this::reap, interval);
	}

	@Override
	public synchronized void stop() {
		if (ticking != null) {
			ticking.cancel(false);
			ticking = null;
		}
	}

	@Override
	public synchronized boolean isRunning() {
		return ticking != null;
	}

	private void reap() {
		try {
			interrupted.increment(reaper.reapDead().size());
			reaper.sweepQueued(DeadWorkerReaper.QUEUED_WITHOUT_JOB);
		}
		catch (RuntimeException ex) {
			log.warn("reaping dead workers failed ({}); next tick retries", ex.toString());
		}
	}

}
