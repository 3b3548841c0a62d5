package io.stopline.core.liveness;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.concurrent.ConcurrentTaskScheduler;

/**
 * Runs {@link DeadWorkerReaper#reapDead()}, and the sweep of runs queued without a job
 * ({@link DeadWorkerReaper#sweepQueued}), on a fixed delay while the node lives. Every
 * gateway and worker runs one: concurrent reapers are safe, and runs are cleaned up as
 * long as any node is alive.
 * <p>
 * A node that keeps serving during its shutdown (a gateway draining its requests) runs it
 * {@link #onOwnThread on a timer thread of its own}, stopped in a late lifecycle phase:
 * Spring's shared scheduler shuts down at {@code ContextClosedEvent}, before any
 * lifecycle {@code stop()}, and would end the reaping the moment the shutdown begins.
 */
public final class PeriodicReaper implements SmartLifecycle, AutoCloseable {

	private static final Logger log = LoggerFactory.getLogger(PeriodicReaper.class);

	private final DeadWorkerReaper reaper;

	private final TaskScheduler scheduler;

	private final Duration interval;

	private @Nullable ScheduledFuture<?> ticking;

	private final Counter interrupted;

	private final @Nullable ScheduledExecutorService ownThread;

	private final int phase;

	/**
	 * On the given scheduler (whose life the caller owns), stopped in the default phase.
	 */
	public PeriodicReaper(DeadWorkerReaper reaper, TaskScheduler scheduler, Duration interval, MeterRegistry meters) {
		this(reaper, scheduler, null, interval, meters, DEFAULT_PHASE);
	}

	private PeriodicReaper(DeadWorkerReaper reaper, TaskScheduler scheduler,
			@Nullable ScheduledExecutorService ownThread, Duration interval, MeterRegistry meters, int phase) {
		this.ownThread = ownThread;
		this.phase = phase;
		this.interrupted = Counter.builder("stopline.reaper.interrupted")
			.description("Runs of dead workers interrupted by this node's reaper")
			.register(meters);
		this.reaper = reaper;
		this.scheduler = scheduler;
		this.interval = interval;
	}

	/**
	 * On a daemon timer thread of its own that lives until {@link #close()} (the bean's
	 * destruction, after every lifecycle stopped), ticking until its lifecycle
	 * {@code phase} is stopped.
	 */
	public static PeriodicReaper onOwnThread(DeadWorkerReaper reaper, Duration interval, MeterRegistry meters,
			int phase) {
		ScheduledThreadPoolExecutor thread = new ScheduledThreadPoolExecutor(1,
				Thread.ofPlatform().daemon().name("stopline-reaper").factory());
		thread.setRemoveOnCancelPolicy(true);
		return new PeriodicReaper(reaper, new ConcurrentTaskScheduler(thread), thread, interval, meters, phase);
	}

	@Override
	public int getPhase() {
		return phase;
	}

	/** Stops ticking and ends the own timer thread, if any. */
	@Override
	public void close() {
		stop();
		if (ownThread != null) {
			ownThread.shutdownNow();
		}
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
			reaper.sweepQueued();
		}
		catch (RuntimeException ex) {
			log.warn("reaping dead workers failed ({}); next tick retries", ex.toString());
		}
	}

}
