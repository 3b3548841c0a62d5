package io.stopline.worker.queue;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import io.stopline.protocol.Json;
import io.stopline.protocol.StartRun;
import io.stopline.core.schema.Keys;
import io.stopline.starter.WorkerProperties;
import io.stopline.starter.liveness.WorkerReadiness;
import io.stopline.starter.WorkerPhase;
import io.stopline.starter.task.JobTaken;
import io.stopline.worker.agent.AgentRuns;
import org.redisson.api.BatchOptions;
import org.redisson.api.RBatch;
import org.redisson.api.RStream;
import org.redisson.api.RStreamAsync;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.PendingEntry;
import org.redisson.api.stream.StreamCreateGroupArgs;
import org.redisson.api.stream.StreamMessageId;
import org.redisson.api.stream.StreamReadGroupArgs;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Takes runs from the {@code stopline:jobs} stream through the {@code workers} consumer
 * group, never more than the free slots of this worker, so load spreads over workers by
 * capacity.
 */
@Component
class JobConsumer implements SmartLifecycle {

	private static final Logger log = LoggerFactory.getLogger(JobConsumer.class);

	private static final int MAX_BATCH = 16;

	private static final Duration BLOCK = Duration.ofSeconds(1);

	private final RStream<String, String> jobs;

	private final RedissonClient redisson;

	private final AgentRuns runner;

	private final Semaphore slots;

	private final String workerId;

	private final Duration orphanedIdle;

	private final WorkerReadiness readiness;

	private volatile boolean running;

	private long nextOrphanCheck;

	/**
	 * How long a job may be pending on this worker without being in its hands before it
	 * is taken again: well past a blocking read.
	 */
	private static final Duration UNDELIVERED_IDLE = BLOCK.multipliedBy(4);

	private long nextUndeliveredCheck;

	/**
	 * The jobs handed to the runner and not acknowledged: every other job pending on this
	 * worker's consumer was delivered by Redis but never reached it. One the runner
	 * leaves unacknowledged on purpose (a stale local run would not yield) stays here, so
	 * it is not taken again by this worker but by another after
	 * {@code orphaned-job-idle}.
	 */
	private final Set<StreamMessageId> inHand = ConcurrentHashMap.newKeySet();

	private Thread thread;

	JobConsumer(RedissonClient redisson, AgentRuns runner, WorkerReadiness readiness, WorkerProperties properties,
			JobQueueProperties queue) {
		this.readiness = readiness;
		this.redisson = redisson;
		this.jobs = redisson.getStream(Keys.JOBS, StringCodec.INSTANCE);
		this.runner = runner;
		this.slots = new Semaphore(queue.maxConcurrentRuns());
		this.workerId = properties.id();
		this.orphanedIdle = queue.orphanedJobIdle();
	}

	@Override
	public void start() {
		ensureGroup();
		running = true;
		thread = Thread.ofPlatform().name("job-consumer").daemon().start(this::consume);
	}

	@Override
	public void stop() {
		running = false;
		if (thread != null) {
			thread.interrupt();
			try {
				thread.join(BLOCK.toMillis() * 3);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	@Override
	public boolean isRunning() {
		return running;
	}

	@Override
	public int getPhase() {
		return WorkerPhase.JOB_CONSUMER.phase();
	}

	private void consume() {
		while (running) {
			int granted = 0;
			try {
				if (!readiness.isReady()) {
					// cannot hear stops or not seen alive: take no new runs until that is
					// fixed
					pause(Duration.ofMillis(100));
					continue;
				}
				slots.acquire();
				granted = 1 + slots.drainPermits();
				int wanted = Math.min(granted, MAX_BATCH);
				slots.release(granted - wanted);
				granted = wanted;
				Map<StreamMessageId, Map<String, String>> batch = orphans(wanted);
				if (batch.isEmpty()) {
					batch = undelivered(wanted);
				}
				if (batch.isEmpty()) {
					batch = jobs.readGroup(Keys.JOBS_GROUP, workerId,
							StreamReadGroupArgs.neverDelivered().count(wanted).timeout(BLOCK));
				}
				granted -= dispatch(batch);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				running = false;
			}
			catch (RuntimeException ex) {
				if (!running) {
					break;
				}
				log.warn("reading the job queue failed ({}); retrying", ex.toString());
				ensureGroupQuietly();
				pause(Duration.ofMillis(500));
			}
			finally {
				slots.release(granted);
			}
		}
	}

	/**
	 * Jobs another worker read but never acknowledged: it died between reading and
	 * claiming. A job is acknowledged only once its run is claimed (or found stopped), so
	 * nothing read is ever lost; claiming is fenced, so taking over a job twice is
	 * harmless.
	 */
	private Map<StreamMessageId, Map<String, String>> orphans(int wanted) {
		long now = System.nanoTime();
		if (now < nextOrphanCheck) {
			return Map.of();
		}
		nextOrphanCheck = now + orphanedIdle.toNanos() / 2;
		return jobs
			.autoClaim(Keys.JOBS_GROUP, workerId, orphanedIdle.toMillis(), TimeUnit.MILLISECONDS, StreamMessageId.MIN,
					wanted)
			.getMessages();
	}

	/**
	 * Jobs Redis delivered to this worker that never reached it: a blocking read whose
	 * reply came after Redisson gave up on it (a Redis stall longer than {@link #BLOCK})
	 * leaves them pending on this consumer, and another worker would take them only after
	 * {@code orphaned-job-idle}, the run queued meanwhile. Taken again here after
	 * {@link #UNDELIVERED_IDLE}; the claim of a run is fenced, so a job taken twice is
	 * harmless.
	 */
	private Map<StreamMessageId, Map<String, String>> undelivered(int wanted) {
		long now = System.nanoTime();
		if (now < nextUndeliveredCheck) {
			return Map.of();
		}
		nextUndeliveredCheck = now + UNDELIVERED_IDLE.toNanos();
		StreamMessageId[] lost = jobs
			.listPending(Keys.JOBS_GROUP, workerId, StreamMessageId.MIN, StreamMessageId.MAX,
					UNDELIVERED_IDLE.toMillis(), TimeUnit.MILLISECONDS, wanted)
			.stream()
			.map(PendingEntry::getId)
			.filter(id -> !inHand.contains(id))
			.toArray(StreamMessageId[]::new);
		if (lost.length == 0) {
			return Map.of();
		}
		log.warn("{} job(s) delivered to worker {} never reached it (a read whose reply came too late): taken again",
				lost.length, workerId);
		return jobs.claim(Keys.JOBS_GROUP, workerId, UNDELIVERED_IDLE.toMillis(), TimeUnit.MILLISECONDS, lost);
	}

	/**
	 * Starts each job; returns how many slots it used (each is released when its run
	 * ends).
	 */
	private int dispatch(Map<StreamMessageId, Map<String, String>> batch) {
		int used = 0;
		for (Map.Entry<StreamMessageId, Map<String, String>> entry : batch.entrySet()) {
			String json = entry.getValue().get("job");
			if (json == null) {
				acknowledge(entry.getKey());
				continue;
			}
			StreamMessageId id = entry.getKey();
			inHand.add(id);
			runner.start(Json.read(json, StartRun.class), new Taken(id), slots::release);
			used++;
		}
		return used;
	}

	/**
	 * A job read from the stream: the claim's script acknowledges it where it can (one
	 * Redis, Sentinel), else it is acknowledged here.
	 */
	private final class Taken implements JobTaken {

		private final StreamMessageId id;

		Taken(StreamMessageId id) {
			this.id = id;
		}

		@Override
		public String entryId() {
			return id.toString();
		}

		@Override
		public void taken(boolean acknowledged) {
			if (acknowledged) {
				inHand.remove(id);
			}
			else {
				acknowledge(id);
			}
		}

	}

	/**
	 * Not awaited: the run starts generating while its job leaves the queue. A job whose
	 * acknowledgement is lost is taken over later by another worker, whose claim is
	 * fenced and finds the run taken: harmless.
	 */
	private void acknowledge(StreamMessageId id) {
		inHand.remove(id);
		// XACK and XDEL in one pipelined write: one round trip per start instead of two
		RBatch batch = redisson.createBatch(BatchOptions.defaults());
		RStreamAsync<String, String> queue = batch.getStream(Keys.JOBS, StringCodec.INSTANCE);
		queue.ackAsync(Keys.JOBS_GROUP, id);
		queue.removeAsync(id);
		batch.executeAsync().whenComplete((removed, error) -> {
			if (error != null) {
				log.warn("could not acknowledge job {} ({}); another worker may take it later, harmlessly", id,
						error.toString());
			}
		});
	}

	/**
	 * The group starts at the stream's beginning, not at {@code $}: gateways add jobs
	 * without it (a fresh Redis, or one that lost its data), and jobs added before the
	 * first worker makes the group would otherwise be skipped for good, their runs queued
	 * forever. What is still in the stream is only jobs not yet claimed (a claimed job is
	 * deleted), and a claim is fenced, so reading them is always right.
	 */
	private void ensureGroup() {
		try {
			jobs.createGroup(StreamCreateGroupArgs.name(Keys.JOBS_GROUP).id(StreamMessageId.ALL).makeStream());
		}
		catch (RuntimeException ex) {
			if (!String.valueOf(ex.getMessage()).contains("BUSYGROUP")) {
				throw ex;
			}
		}
	}

	/**
	 * After Redis lost its data (a restart without persistence) the group is gone: create
	 * it again.
	 */
	private void ensureGroupQuietly() {
		try {
			ensureGroup();
		}
		catch (RuntimeException ex) {
			log.debug("could not create the consumer group yet: {}", ex.toString());
		}
	}

	private void pause(Duration duration) {
		try {
			Thread.sleep(duration);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			running = false;
		}
	}

}
