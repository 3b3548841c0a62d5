package io.stopline.gateway.inbox;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.stopline.gateway.GatewayProperties;
import io.stopline.protocol.Json;
import io.stopline.protocol.RunEvent;
import io.stopline.protocol.TokenFrames;
import io.stopline.core.events.GatewayInboxes;
import io.stopline.core.events.RunEvents;
import org.redisson.api.RTopic;
import org.redisson.api.listener.StatusListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * This gateway's inbox: one subscription that receives every event addressed to it and
 * routes each by run id, to the client stream of the run and to the stop requests waiting
 * for its outcome.
 */
@Component
public class GatewayInbox implements SmartLifecycle {

	private static final Logger log = LoggerFactory.getLogger(GatewayInbox.class);

	private static final Duration SUBSCRIBE_BOUND = Duration.ofSeconds(15);

	/** How long a stop outcome nobody waited for is kept for a waiter still to come. */
	private static final long EARLY_OUTCOME_NANOS = Duration.ofSeconds(10).toNanos();
	static final String SHUTDOWN_NOTICE = "This gateway is shutting down; the answer continues and will be in the "
			+ "conversation's history.";

	private final RTopic topic;

	private final RTopic tokens;

	/**
	 * Token frames queued for one client stream at most: a client that reads nothing
	 * cannot make the gateway hold its whole answer. Frames beyond it are dropped; the
	 * stream still ends with exactly the recorded answer (the end event carries it).
	 */
	static final int MAX_QUEUED_FRAMES = 4096;

	private final String gatewayId;

	private final ConcurrentMap<String, BlockingQueue<RunEvent>> streams = new ConcurrentHashMap<>();

	private final ConcurrentMap<String, CompletableFuture<RunEvent>> stopOutcomes = new ConcurrentHashMap<>();

	private final ConcurrentMap<String, CompletableFuture<RunEvent>> controlOutcomes = new ConcurrentHashMap<>();

	private volatile boolean running;

	private volatile long nextSweep = System.nanoTime();

	private final Counter subscriptions;

	GatewayInbox(GatewayInboxes inboxes, RunEvents events, GatewayProperties properties, MeterRegistry meters) {
		this.subscriptions = Counter.builder("stopline.pubsub.subscriptions")
			.description("(Re)subscriptions of this node's channels")
			.tag("channel", "inbox")
			.register(meters);
		this.gatewayId = properties.id();
		this.topic = inboxes.inbox(gatewayId);
		this.tokens = events.gatewayTokens(gatewayId);
	}

	/** PUBSUB NUMSUB on the inbox channel: subscribed right now. */
	boolean isSubscribed() {
		return running && topic.countSubscribers() > 0;
	}

	public String gatewayId() {
		return gatewayId;
	}

	/** Starts collecting a run's events; call before the run can produce any. */
	public BlockingQueue<RunEvent> openStream(String runId) {
		BlockingQueue<RunEvent> queue = new LinkedBlockingQueue<>();
		streams.put(runId, queue);
		return queue;
	}

	public void closeStream(String runId) {
		streams.remove(runId);
	}

	/**
	 * The next {@link RunEvent.RunStopped} or {@link RunEvent.StopIgnored} of a run.
	 * Concurrent stops of one run share the future. A stop signalled in the same script
	 * that found the run registers only after signalling: an outcome that arrived first
	 * was kept (for {@link #EARLY_OUTCOME_NANOS}) and is returned completed.
	 */
	public CompletableFuture<RunEvent> stopOutcome(String runId) {
		return stopOutcomes.computeIfAbsent(runId, id -> new CompletableFuture<>());
	}

	public void forgetStopOutcome(String runId, CompletableFuture<RunEvent> outcome) {
		stopOutcomes.remove(runId, outcome);
	}

	/**
	 * The answer to a pause or resume of a run ({@link RunEvent.RunPaused},
	 * {@link RunEvent.RunResumed} or {@link RunEvent.ControlIgnored}). Register before
	 * sending the command.
	 */
	public CompletableFuture<RunEvent> controlOutcome(String action, String runId) {
		return controlOutcomes.computeIfAbsent(action + ":" + runId, id -> new CompletableFuture<>());
	}

	public void forgetControlOutcome(String action, String runId, CompletableFuture<RunEvent> outcome) {
		controlOutcomes.remove(action + ":" + runId, outcome);
	}

	/**
	 * A message from the token plane: the frames of one or more runs
	 * ({@link TokenFrames}), each for the client stream of its run only.
	 */
	void routeFrames(String raw) {
		List<RunEvent.TokenGenerated> frames;
		try {
			frames = TokenFrames.decode(raw);
		}
		catch (RuntimeException ex) {
			log.warn("dropping an unreadable token message: {}", ex.toString());
			return;
		}
		for (RunEvent.TokenGenerated frame : frames) {
			BlockingQueue<RunEvent> stream = streams.get(frame.runId());
			if (stream != null && stream.size() < MAX_QUEUED_FRAMES) {
				stream.offer(frame);
			}
		}
	}

	private static @org.jspecify.annotations.Nullable RunEvent read(String raw) {
		try {
			return Json.read(raw, RunEvent.class);
		}
		catch (RuntimeException ex) {
			log.warn("dropping an unreadable inbox message: {}", ex.toString());
			return null;
		}
	}

	void route(String raw) {
		RunEvent event = read(raw);
		if (event == null) {
			return;
		}
		BlockingQueue<RunEvent> stream = streams.get(event.runId());
		if (stream != null) {
			stream.offer(event);
		}
		String control = switch (event) {
			case RunEvent.RunPaused paused -> "pause";
			case RunEvent.RunResumed resumed -> "resume";
			case RunEvent.ControlIgnored ignored -> ignored.action();
			default -> null;
		};
		if (control != null) {
			CompletableFuture<RunEvent> outcome = controlOutcomes.remove(control + ":" + event.runId());
			if (outcome != null) {
				outcome.complete(event);
			}
		}
		if (event instanceof RunEvent.RunStopped || event instanceof RunEvent.StopIgnored) {
			stopOutcomes.compute(event.runId(), (runId, waiting) -> {
				if (waiting == null || waiting.isDone()) {
					return new EarlyOutcome(event);
				}
				waiting.complete(event);
				return null;
			});
			sweepEarlyOutcomes();
		}
	}

	/** Drops the outcomes nobody came for (most stops are not asked for here). */
	private void sweepEarlyOutcomes() {
		long now = System.nanoTime();
		if (now - nextSweep < 0) {
			return;
		}
		nextSweep = now + EARLY_OUTCOME_NANOS / 2;
		stopOutcomes.values()
			.removeIf(outcome -> outcome instanceof EarlyOutcome early && now - early.at > EARLY_OUTCOME_NANOS);
	}

	/** A stop outcome that arrived before anyone waited for it. */
	private static final class EarlyOutcome extends CompletableFuture<RunEvent> {

		private final long at = System.nanoTime();

		EarlyOutcome(RunEvent event) {
			complete(event);
		}

	}

	/**
	 * Takes no traffic before the inbox is subscribed: events published earlier would be
	 * lost.
	 */
	@Override
	public void start() {
		CountDownLatch subscribed = new CountDownLatch(1);
		topic.addListener(new StatusListener() {
			@Override
			public void onSubscribe(String channel) {
				subscribed.countDown();
				subscriptions.increment();
				log.info("inbox {} subscribed", channel);
			}

			@Override
			public void onUnsubscribe(String channel) {
				log.warn("inbox {} unsubscribed", channel);
			}
		});
		topic.addListener(String.class, (channel, raw) -> route(raw));
		CountDownLatch tokensSubscribed = new CountDownLatch(1);
		tokens.addListener(new StatusListener() {
			@Override
			public void onSubscribe(String channel) {
				tokensSubscribed.countDown();
			}

			@Override
			public void onUnsubscribe(String channel) {
			}
		});
		tokens.addListener(String.class, (channel, raw) -> routeFrames(raw));
		try {
			if (!subscribed.await(SUBSCRIBE_BOUND.toMillis(), TimeUnit.MILLISECONDS)
					|| !tokensSubscribed.await(SUBSCRIBE_BOUND.toMillis(), TimeUnit.MILLISECONDS)) {
				throw new IllegalStateException("inbox not subscribed within " + SUBSCRIBE_BOUND);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted while subscribing the inbox", ex);
		}
		running = true;
	}

	/**
	 * Shutting down: every open stream ends now with a final event (the web server's
	 * graceful shutdown, which runs after this phase, then finds them finished). The runs
	 * go on; their answers land in the history.
	 */
	@Override
	public void stop() {
		running = false;
		topic.removeAllListeners();
		tokens.removeAllListeners();
		Instant now = Instant.now();
		streams.forEach((runId, queue) -> queue.offer(new RunEvent.RunFailed(runId, "", SHUTDOWN_NOTICE, "", now)));
	}

	@Override
	public boolean isRunning() {
		return running;
	}

}
