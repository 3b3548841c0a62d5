package io.stopline.core.threads;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The stop path's platform threads run above the token streams'. On a saturated node a
 * stop's ~10 thread wake-ups each wait for a core behind the streams' (and the sends');
 * with a higher priority the operating system gives them the core first.
 * <p>
 * Java's priorities reach Linux only with {@code -XX:ThreadPriorityPolicy=1}, which the
 * launch script adds when it runs as root, and the benchmark too:
 * {@link Thread#MAX_PRIORITY} is then nice -5, which the process may take as root or with
 * {@code CAP_SYS_NICE}. Without either, the threads keep the default priority, as they
 * had before: nothing fails.
 */
public final class ControlThreads {

	/** The control plane's threads' priority. */
	public static final int PRIORITY = Thread.MAX_PRIORITY;

	private ControlThreads() {
	}

	/** Daemon platform threads named {@code prefix0}, {@code prefix1}, ... */
	public static ThreadFactory factory(String prefix) {
		return Thread.ofPlatform().daemon().name(prefix, 0).priority(PRIORITY).factory();
	}

	/**
	 * Up to {@code threads} control threads, any number of tasks queued; a thread idle
	 * for {@link #KEEP_ALIVE} ends, so a pool nobody shuts down leaves no thread behind.
	 */
	public static ExecutorService pool(String prefix, int threads) {
		ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, KEEP_ALIVE.toMillis(), TimeUnit.MILLISECONDS,
				new LinkedBlockingQueue<>(), factory(prefix));
		pool.allowCoreThreadTimeOut(true);
		return pool;
	}

	private static final Duration KEEP_ALIVE = Duration.ofSeconds(30);

}
