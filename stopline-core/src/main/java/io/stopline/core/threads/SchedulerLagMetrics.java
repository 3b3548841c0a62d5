package io.stopline.core.threads;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * {@code stopline.scheduler.lag}: how late this node's virtual threads wake (the
 * {@link SchedulerLag} probe, 4 samples a second). Requests, runs and client streams all
 * live on virtual threads, so every hand-off of a chat's start, a token's delivery or a
 * stop can wait this long for a carrier: the figure that says whether a slow stage waited
 * for CPU or for Redis.
 */
public final class SchedulerLagMetrics implements MeterBinder, AutoCloseable {

	private final SchedulerLag lag;

	/** One per registry bound. */
	private final List<AutoCloseable> listening = new CopyOnWriteArrayList<>();

	public SchedulerLagMetrics() {
		this(SchedulerLag.shared());
	}

	SchedulerLagMetrics(SchedulerLag lag) {
		this.lag = lag;
	}

	@Override
	public void bindTo(MeterRegistry meters) {
		Timer timer = Timer.builder("stopline.scheduler.lag")
			.description("How late a sleeping virtual thread wakes: the wait of ready virtual threads for a carrier")
			.publishPercentileHistogram()
			.minimumExpectedValue(Duration.ofNanos(50_000))
			.maximumExpectedValue(Duration.ofSeconds(5))
			.register(meters);
		listening.add(lag.listen(late -> timer.record(late, TimeUnit.NANOSECONDS)));
	}

	/** Stops recording: the probe outlives a node's context (one per JVM). */
	@Override
	public void close() throws Exception {
		for (AutoCloseable listener : listening) {
			listener.close();
		}
		listening.clear();
	}

}
