package io.stopline.starter.task;

import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.jspecify.annotations.Nullable;

/**
 * What a worker's runs do: started, ended by outcome and reason, how long before a stop,
 * how fast a stop lands.
 */
public class RunMetrics {

	private final MeterRegistry meters;

	private final Counter started;

	/** Registered once: a start records three stages, at up to thousands a second. */
	private final Map<StartStage, Timer> startTimers = new EnumMap<>(StartStage.class);

	RunMetrics(MeterRegistry meters, LocalTaskRegistry tasks) {
		this.meters = meters;
		this.started = Counter.builder("stopline.runs.started")
			.description("Runs claimed by this worker")
			.register(meters);
		Gauge.builder("stopline.runs.active", tasks, LocalTaskRegistry::size)
			.description("Runs executing on this worker")
			.register(meters);
		for (StartStage stage : StartStage.values()) {
			startTimers.put(stage, Timer.builder("stopline.run.start")
				.description(
						"Gateway's chat request to the worker taking the job, claiming the run, and the first token")
				.tag("stage", stage.tag())
				.publishPercentileHistogram()
				.minimumExpectedValue(Duration.ofNanos(50_000))
				.maximumExpectedValue(Duration.ofSeconds(30))
				.register(meters));
		}
	}

	void started() {
		started.increment();
	}

	void ended(String outcome, @Nullable String reason) {
		Counter.builder("stopline.runs.ended")
			.description("Runs ended on this worker, by outcome (completed, stopped, failed) and stop reason")
			.tag("outcome", outcome)
			.tag("reason", reason == null ? "none" : reason)
			.register(meters)
			.increment();
	}

	/**
	 * Where a run's start has got to, from the gateway's request ({@code requested_at} of
	 * its job): the run's claim started on this worker once the job was off the queue (on
	 * the run's thread, or a start thread while the scheduler is busy: {@code taken};
	 * also for a run its claim then finds stopped or replaced), the run was claimed
	 * ({@code claimed}), and its model produced the first token ({@code first_token}).
	 * The gaps between the stages tell where a slow start waited: the queue, the claim,
	 * or the model.
	 */
	enum StartStage {

		TAKEN, CLAIMED, FIRST_TOKEN;

		String tag() {
			return name().toLowerCase(java.util.Locale.ROOT);
		}

	}

	/**
	 * Records a start's {@code stage}. Both clocks are wall clocks, the gateway's and
	 * this worker's: across hosts their skew is in the figures (a negative gap counts as
	 * zero).
	 */
	void start(StartStage stage, Instant requestedAt, Instant at) {
		Duration since = Duration.between(requestedAt, at);
		startTimers.get(stage).record(since.isNegative() ? Duration.ZERO : since);
	}

	/** How long a run had been going (since it was accepted) when it was stopped. */
	void durationBeforeStop(Duration duration) {
		Timer.builder("stopline.run.duration.before.stop")
			.description("Run duration before it was stopped")
			.publishPercentileHistogram()
			.maximumExpectedValue(Duration.ofHours(1))
			.register(meters)
			.record(duration);
	}

	/**
	 * From the gateway's stop request to this worker's listener accepting it
	 * ({@code stage=delivered}: the run's state flipped, its thread interrupted), to its
	 * cancellation ({@code stage=cancelled}: the run's thread woke and ended generation)
	 * and to the run's unregistration ({@code stage=unregistered}: outcome recorded,
	 * record removed). The gaps between the stages tell where a slow stop waited.
	 */
	void propagation(Instant requestedAt, Instant deliveredAt, Instant cancelledAt, Instant unregisteredAt) {
		timer("delivered").record(Duration.between(requestedAt, deliveredAt));
		timer("cancelled").record(Duration.between(requestedAt, cancelledAt));
		timer("unregistered").record(Duration.between(requestedAt, unregisteredAt));
	}

	/**
	 * Tokens the model handed over after the stop reached this worker (never kept; with
	 * an upstream model, what it had already sent before its connection was closed).
	 */
	void tokensAfterStop(int tokens) {
		DistributionSummary.builder("stopline.stop.tokens.after.request")
			.description("Tokens the model produced after the stop reached the worker, per stopped run")
			.register(meters)
			.record(tokens);
	}

	public void reconciledStop() {
		meters.counter("stopline.stops.reconciled").increment();
	}

	public void resubscribed() {
		meters.counter("stopline.pubsub.subscriptions", "channel", "stop").increment();
	}

	private Timer timer(String stage) {
		return Timer.builder("stopline.stop.propagation")
			.description("Gateway's stop request to the worker's cancellation and unregistration")
			.tag("stage", stage)
			.publishPercentileHistogram()
			.minimumExpectedValue(Duration.ofNanos(50_000))
			.maximumExpectedValue(Duration.ofSeconds(5))
			.register(meters);
	}

}
