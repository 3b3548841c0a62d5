package io.stopline.core.threads;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;

/**
 * How late this JVM's virtual-thread scheduler runs a thread that became ready: one
 * virtual thread sleeps {@link #PERIOD} over and over and measures how much later than
 * asked it wakes. The stop path hands its work to platform threads only while this
 * scheduler is {@link #busy()}: a hand-off costs two thread wake-ups (about 0.1 ms each
 * on this project's 2-core machine), pure cost on an idle scheduler (the idle confirmed
 * stop's p50 rose from 0.75 to 1.1 ms with the hand-offs always on), and it saves tens of
 * milliseconds when hundreds of streams queue in the scheduler. One per JVM, like the
 * scheduler it measures (nodes started in one JVM share both).
 */
public final class SchedulerLag {

	/**
	 * How often the probe wakes. A virtual thread's timed wake-up costs about 0.5 ms of
	 * CPU here (the timer thread, a carrier woken from idle, its spin before it parks
	 * again): every 50 ms that was 0.01 of a core per idle JVM in the streaming
	 * benchmark, so 4 a second.
	 */
	static final Duration PERIOD = Duration.ofMillis(250);

	/** A wake-up this late means ready threads wait in the scheduler's queue. */
	static final Duration BUSY = Duration.ofMillis(1);

	/**
	 * How much of the last lateness is kept per sample: a busy spell is remembered ~1 s.
	 */
	private static final double DECAY = 0.5;

	private static final SchedulerLag SHARED = new SchedulerLag(true);

	private volatile long lateNanos;

	/** Hear each probe's lateness (metrics). */
	private final List<LongConsumer> listeners = new CopyOnWriteArrayList<>();

	private SchedulerLag(boolean probing) {
		if (probing) {
			Thread.ofVirtual().name("scheduler-lag").start(this::probe);
		}
	}

	/** The JVM's probe (started with the first use). */
	public static SchedulerLag shared() {
		return SHARED;
	}

	/** A lag fed by hand, for tests. */
	static SchedulerLag unprobed() {
		return new SchedulerLag(false);
	}

	/** Whether ready virtual threads have lately waited a millisecond or more to run. */
	public boolean busy() {
		return lateNanos >= BUSY.toNanos();
	}

	/** The recent lateness (decayed), for metrics and tests. */
	public Duration late() {
		return Duration.ofNanos(lateNanos);
	}

	/**
	 * Hands every probe's lateness (nanoseconds, 0 when on time) to {@code listener}
	 * until the returned handle is closed.
	 */
	public AutoCloseable listen(LongConsumer listener) {
		listeners.add(listener);
		return () -> listeners.remove(listener);
	}

	/** One wake-up {@code late} after its time. */
	void sample(long late) {
		long lateness = Math.max(late, 0);
		lateNanos = Math.max(lateness, (long) (lateNanos * DECAY));
		for (LongConsumer listener : listeners) {
			try {
				listener.accept(lateness);
			}
			catch (RuntimeException ex) {
				// a failing listener must not end the JVM's only probe
			}
		}
	}

	private void probe() {
		long period = PERIOD.toNanos();
		while (true) {
			long asked = System.nanoTime() + period;
			LockSupport.parkNanos(period);
			sample(System.nanoTime() - asked);
			// nobody interrupts it; a stray interrupt must not turn the park into a spin
			Thread.interrupted();
		}
	}

	@Override
	public String toString() {
		return "SchedulerLag[late=" + TimeUnit.NANOSECONDS.toMicros(lateNanos) + " us]";
	}

}
