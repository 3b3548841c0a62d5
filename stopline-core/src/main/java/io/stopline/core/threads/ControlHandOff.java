package io.stopline.core.threads;

import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;

/**
 * A few platform threads for the stop path. Requests and runs live on virtual threads,
 * whose scheduler also runs every stream's wake-ups: with hundreds of chats streaming, a
 * stop carried out there waits in that queue at each of its hand-offs (a script's reply,
 * the owner's answer). On a platform thread those wake-ups go to the operating system's
 * scheduler instead, which runs a thread that slept at once, ahead of the streams'
 * threads ({@link ControlThreads}).
 * <p>
 * The hand-off costs two thread wake-ups, pure cost on an idle scheduler, so it happens
 * only while {@link SchedulerLag} says the scheduler is busy, and only from a virtual
 * thread; otherwise the caller's own thread does the work. Bounded: beyond
 * {@code maxThreads} at a time the caller's thread does it too. The caller's log context
 * goes with the work.
 */
public final class ControlHandOff implements AutoCloseable {

	/** What a caller interrupted while it waits wants done with the work. */
	public enum OnInterrupt {

		/** Cancel it (interrupting its thread) and fail: nobody waits for the answer. */
		CANCEL,

		/** Let it finish on its thread and return without its answer. */
		LET_FINISH

	}

	private final SchedulerLag lag;

	private final OnInterrupt onInterrupt;

	private final ThreadPoolExecutor pool;

	/**
	 * @param name the threads' name prefix
	 * @param maxThreads how many may work at once
	 */
	public ControlHandOff(String name, int maxThreads, OnInterrupt onInterrupt) {
		this(SchedulerLag.shared(), name, maxThreads, onInterrupt);
	}

	ControlHandOff(SchedulerLag lag, String name, int maxThreads, OnInterrupt onInterrupt) {
		this.lag = lag;
		this.onInterrupt = onInterrupt;
		this.pool = new ThreadPoolExecutor(0, maxThreads, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
				ControlThreads.factory(name), new ThreadPoolExecutor.CallerRunsPolicy());
	}

	/**
	 * Runs {@code work} (on a control thread while the scheduler is busy) and returns its
	 * answer or throws its failure; null when the caller was interrupted and the work was
	 * left to finish ({@link OnInterrupt#LET_FINISH}).
	 */
	public <T> @Nullable T call(Supplier<T> work) {
		if (!Thread.currentThread().isVirtual() || !lag.busy()) {
			return work.get();
		}
		Map<String, String> context = MDC.getCopyOfContextMap();
		Future<T> answer = pool.submit(() -> withContext(context, work));
		try {
			return answer.get();
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
			Thread.currentThread().interrupt();
			if (onInterrupt == OnInterrupt.LET_FINISH) {
				return null;
			}
			answer.cancel(true);
			throw new IllegalStateException("interrupted while waiting for a control thread", ex);
		}
	}

	/** As {@link #call}, for work without an answer. */
	public void run(Runnable work) {
		call(() -> {
			work.run();
			return null;
		});
	}

	@Override
	public void close() {
		pool.shutdownNow();
	}

	private static <T> T withContext(@Nullable Map<String, String> context, Supplier<T> work) {
		Map<String, String> before = MDC.getCopyOfContextMap();
		if (context != null) {
			MDC.setContextMap(context);
		}
		try {
			return work.get();
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
