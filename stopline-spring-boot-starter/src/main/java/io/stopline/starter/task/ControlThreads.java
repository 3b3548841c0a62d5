package io.stopline.starter.task;

import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import io.stopline.core.threads.SchedulerLag;
import org.slf4j.MDC;

/**
 * Platform threads for a stopped run's finish (outcome script, confirmation). Runs live
 * on virtual threads, whose scheduler also runs every streaming run's token wake-ups:
 * with hundreds of runs streaming, the finish's wake-up after its script's reply waits in
 * that queue. A platform thread is woken by the operating system's scheduler instead.
 * Bounded: beyond {@link #MAX_THREADS} finishes at a time, the run's own thread finishes,
 * as before. While the virtual threads' scheduler is idle ({@link SchedulerLag}) the
 * run's own thread finishes: the hand-off's wake-ups would be its only effect.
 */
final class ControlThreads {

	static final int MAX_THREADS = 16;

	private final SchedulerLag lag = SchedulerLag.shared();

	private final ThreadPoolExecutor pool = new ThreadPoolExecutor(0, MAX_THREADS, 30, TimeUnit.SECONDS,
			new SynchronousQueue<>(), Thread.ofPlatform().daemon().name("stop-finish-", 0).factory(),
			new ThreadPoolExecutor.CallerRunsPolicy());

	/**
	 * Runs {@code work} on a control thread (with the caller's log context) and waits.
	 */
	void run(Runnable work) {
		if (!lag.busy()) {
			work.run();
			return;
		}
		Map<String, String> context = MDC.getCopyOfContextMap();
		Future<?> done = pool.submit(() -> withContext(context, work));
		try {
			done.get();
		}
		catch (ExecutionException ex) {
			if (ex.getCause() instanceof RuntimeException failure) {
				throw failure;
			}
			if (ex.getCause() instanceof Error error) {
				throw error;
			}
			throw new IllegalStateException(ex.getCause());
		}
		catch (InterruptedException ex) {
			// the finish goes on on its thread; this one only stops waiting for it
			Thread.currentThread().interrupt();
		}
	}

	private static void withContext(Map<String, String> context, Runnable work) {
		Map<String, String> before = MDC.getCopyOfContextMap();
		if (context != null) {
			MDC.setContextMap(context);
		}
		try {
			work.run();
		}
		finally {
			if (before != null) {
				MDC.setContextMap(before);
			}
			else {
				MDC.clear();
			}
		}
	}

}
