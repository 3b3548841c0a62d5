package io.stopline.starter.liveness;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import io.stopline.core.threads.ControlThreads;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.concurrent.ConcurrentTaskScheduler;

/**
 * The worker's own timer threads for what keeps it alive and audible: the heartbeat, the
 * stop reconcile, the ownership check, the reaper. Not Spring's shared scheduler: that
 * one shuts its executors down on {@code ContextClosedEvent}, before any lifecycle
 * {@code stop()} runs, so a worker finishing its runs during the shutdown grace would go
 * silent at SIGTERM (no heartbeat: other nodes reap the runs it is still finishing; no
 * reconcile: a stop whose publish was lost waits for ever). These threads end only when
 * the beans are destroyed, after every lifecycle stopped and the last run was settled.
 */
public final class LivenessScheduler implements DisposableBean {

	/** Timers that talk to Redis (two, so one blocked call does not stop the others). */
	private final ScheduledThreadPoolExecutor executor;

	/**
	 * A thread of its own for checks that never wait on Redis: with Redis unreachable
	 * every thread above may be blocked in a call, and the check that notices it must
	 * still run.
	 */
	private final ScheduledThreadPoolExecutor watchdog;

	LivenessScheduler() {
		this.executor = new ScheduledThreadPoolExecutor(2, ControlThreads.factory("worker-liveness-"));
		this.executor.setRemoveOnCancelPolicy(true);
		this.watchdog = new ScheduledThreadPoolExecutor(1, ControlThreads.factory("worker-watchdog-"));
		this.watchdog.setRemoveOnCancelPolicy(true);
	}

	/** For a check that does no I/O: it runs even while every Redis call hangs. */
	public ScheduledFuture<?> watch(Runnable check, Duration delay) {
		return watchdog.scheduleWithFixedDelay(check, delay.toMillis(), delay.toMillis(), TimeUnit.MILLISECONDS);
	}

	public ScheduledFuture<?> atFixedRate(Runnable task, Duration period) {
		return executor.scheduleAtFixedRate(task, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
	}

	public ScheduledFuture<?> withFixedDelay(Runnable task, Duration delay) {
		return executor.scheduleWithFixedDelay(task, delay.toMillis(), delay.toMillis(), TimeUnit.MILLISECONDS);
	}

	/**
	 * The same threads as a {@link TaskScheduler}, for the registry's periodic reaper.
	 */
	public TaskScheduler taskScheduler() {
		return new ConcurrentTaskScheduler(executor);
	}

	@Override
	public void destroy() {
		executor.shutdownNow();
		watchdog.shutdownNow();
	}

}
