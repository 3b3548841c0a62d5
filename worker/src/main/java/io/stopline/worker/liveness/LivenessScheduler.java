package io.stopline.worker.liveness;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.concurrent.ConcurrentTaskScheduler;
import org.springframework.stereotype.Component;

/**
 * The worker's own timer threads for what keeps it alive and audible: the heartbeat, the
 * stop reconcile, the ownership check, the reaper. Not Spring's shared scheduler: that
 * one shuts its executors down on {@code ContextClosedEvent}, before any lifecycle
 * {@code stop()} runs, so a worker finishing its runs during the shutdown grace would go
 * silent at SIGTERM (no heartbeat: other nodes reap the runs it is still finishing; no
 * reconcile: a stop whose publish was lost waits for ever). These threads end only when
 * the beans are destroyed, after every lifecycle stopped and the last run was settled.
 */
@Component
public final class LivenessScheduler implements DisposableBean {

	/**
	 * Two threads: a heartbeat blocked on an unreachable Redis must not hold up the check
	 * that notices it.
	 */
	private final ScheduledThreadPoolExecutor executor;

	LivenessScheduler() {
		this.executor = new ScheduledThreadPoolExecutor(2,
				Thread.ofPlatform().daemon().name("worker-liveness-", 0).factory());
		this.executor.setRemoveOnCancelPolicy(true);
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
	}

}
