package io.stopline.starter.stop;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledFuture;

import io.stopline.core.schema.Channels;
import io.stopline.core.schema.Keys;
import io.stopline.core.stop.StopRequests;
import io.stopline.starter.WorkerProperties;
import io.stopline.starter.liveness.LivenessScheduler;
import io.stopline.starter.liveness.WorkerReadiness;
import io.stopline.starter.task.RunMetrics;
import io.stopline.starter.WorkerPhase;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.api.listener.StatusListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;

/**
 * Hears stop requests for this worker: pub/sub for speed, the recorded set for certainty.
 * The set is read on every (re)subscription, since a publish made while the connection
 * was down is lost, and on a short tick, which bounds how late a missed stop can be.
 */
class StopListener implements SmartLifecycle {

	private static final Logger log = LoggerFactory.getLogger(StopListener.class);

	private final RTopic topic;

	private final StopHandler handler;

	private final StopRequests stopRequests;

	private final ExecutorService executor;

	private final String workerId;

	private final LivenessScheduler scheduler;

	private final Duration reconcileInterval;

	private final WorkerReadiness readiness;

	private final RunMetrics metrics;

	private volatile boolean running;

	private ScheduledFuture<?> ticking;

	StopListener(RedissonClient redisson, StopHandler handler, StopRequests stopRequests, ExecutorService runExecutor,
			LivenessScheduler scheduler, WorkerReadiness readiness, RunMetrics metrics, WorkerProperties properties) {
		this.readiness = readiness;
		this.metrics = metrics;
		this.scheduler = scheduler;
		this.reconcileInterval = properties.reconcileInterval();
		this.workerId = properties.id();
		this.topic = Channels.topic(redisson, Keys.workerStopChannel(workerId));
		this.handler = handler;
		this.stopRequests = stopRequests;
		this.executor = runExecutor;
	}

	@Override
	public void start() {
		topic.addListener(new StatusListener() {
			@Override
			public void onSubscribe(String channel) {
				log.info("listening for stops on {}", channel);
				readiness.stopsAudible(true);
				metrics.resubscribed();
				executor.execute(StopListener.this::reconcile);
			}

			@Override
			public void onUnsubscribe(String channel) {
				log.warn("stop subscription {} lost", channel);
			}
		});
		// Redisson calls listeners on its own threads; hand off so a stop never waits
		// behind Redis I/O.
		topic.addListener(String.class, (channel, raw) -> handler.handleFast(raw, executor));
		running = true;
		// the worker's own timer: it keeps reconciling through the shutdown grace
		ticking = scheduler.withFixedDelay(this::reconcile, reconcileInterval);
	}

	@Override
	public void stop() {
		running = false;
		if (ticking != null) {
			ticking.cancel(false);
		}
		topic.removeAllListeners();
	}

	@Override
	public boolean isRunning() {
		return running;
	}

	@Override
	public int getPhase() {
		return WorkerPhase.LISTENERS.phase();
	}

	void reconcile() {
		if (!running) {
			return;
		}
		try {
			// PUBSUB NUMSUB: is this worker's stop channel really subscribed right now?
			readiness.stopsAudible(topic.countSubscribers() > 0);
			for (String pending : stopRequests.pending(workerId)) {
				metrics.reconciledStop();
				handler.handle(pending);
			}
		}
		catch (RuntimeException ex) {
			log.warn("reconciling recorded stops failed ({}); next tick retries", ex.toString());
		}
	}

}
