package io.stopline.gateway.stop;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.stopline.core.threads.SchedulerLag;
import jakarta.annotation.PreDestroy;

import org.springframework.stereotype.Component;

/**
 * The stop endpoint's own platform threads. Requests run on virtual threads, whose
 * scheduler also runs every client stream's wake-ups: with hundreds of chats streaming, a
 * stop carried out there waits in that queue at each of its hand-offs (the lookup
 * script's reply, the owner's answer). On a platform thread those wake-ups go to the
 * operating system's scheduler instead, which runs a thread that slept at once. Bounded:
 * beyond {@link #MAX_THREADS} stops at a time, the request's own thread carries the stop
 * out, as before. While the virtual threads' scheduler is idle ({@link SchedulerLag}) the
 * request's own thread carries the stop out too: the hand-off's two wake-ups would be its
 * only effect; so does a request on a platform thread already (the control port's).
 */
@Component
class StopThreads {

	static final int MAX_THREADS = 32;

	private final SchedulerLag lag = SchedulerLag.shared();

	private final ThreadPoolExecutor pool = new ThreadPoolExecutor(0, MAX_THREADS, 30, TimeUnit.SECONDS,
			new SynchronousQueue<>(), Thread.ofPlatform().daemon().name("stop-", 0).factory(),
			new ThreadPoolExecutor.CallerRunsPolicy());

	/**
	 * Runs {@code stop} on a stop thread and returns its answer (or throws its failure).
	 */
	<T> T call(Supplier<T> stop) {
		if (!Thread.currentThread().isVirtual() || !lag.busy()) {
			return stop.get();
		}
		Future<T> answer = pool.submit(stop::get);
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
			answer.cancel(true);
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted while stopping", ex);
		}
	}

	@PreDestroy
	void close() {
		pool.shutdownNow();
	}

}
