package io.stopline.starter.liveness;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledFuture;

import io.stopline.core.liveness.WorkerLiveness;
import io.stopline.protocol.StopReason;
import io.stopline.starter.WorkerProperties;
import io.stopline.starter.task.LocalTaskRegistry;
import io.stopline.starter.task.RunRevalidator;
import io.stopline.starter.task.RunningTask;
import io.stopline.starter.WorkerPhase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;

/**
 * Keeps this worker's heartbeat key alive (renewed every third of its TTL, on the
 * worker's own {@link LivenessScheduler}, so it goes on through the shutdown grace until
 * the last run is settled) and removes every trace of the worker on a clean exit.
 * <p>
 * Self-fencing: a worker that has tried and failed to renew its heartbeat for longer than
 * the TTL is cut off from Redis, and other nodes reap its runs; it stops its local runs
 * (reason {@code lost}) so nothing keeps generating, and paying its upstream, for runs
 * nobody owns any more.
 */
class Heartbeat implements SmartLifecycle {

	private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);

	private final WorkerLiveness liveness;

	private final String workerId;

	private final Duration ttl;

	private final LivenessScheduler scheduler;

	private final RunRevalidator revalidator;

	private final WorkerReadiness readiness;

	private final LocalTaskRegistry tasks;

	private volatile boolean running;

	/** When the latest renewal began (nanoTime); after the last success = not renewed. */
	private volatile long attempted;

	/** The runs were stopped for this cut-off already (logged once). */
	private volatile boolean fenced;

	private ScheduledFuture<?> beating;

	private ScheduledFuture<?> fencing;

	Heartbeat(WorkerLiveness liveness, LivenessScheduler scheduler, RunRevalidator revalidator,
			WorkerReadiness readiness, LocalTaskRegistry tasks, WorkerProperties properties) {
		this.readiness = readiness;
		this.liveness = liveness;
		this.revalidator = revalidator;
		this.scheduler = scheduler;
		this.tasks = tasks;
		this.workerId = properties.id();
		this.ttl = properties.heartbeatTtl();
	}

	@Override
	public void start() {
		liveness.heartbeat(workerId, ttl);
		readiness.beat();
		running = true;
		beating = scheduler.atFixedRate(this::beat, ttl.dividedBy(3));
		// on the watchdog thread: every Redis-bound timer may be blocked when it matters
		fencing = scheduler.watch(this::fenceIfCutOff, ttl.dividedBy(6));
		log.info("worker {} alive", workerId);
	}

	@Override
	public void stop() {
		running = false;
		if (beating != null) {
			beating.cancel(false);
		}
		if (fencing != null) {
			fencing.cancel(false);
		}
		try {
			liveness.forget(workerId);
		}
		catch (RuntimeException ex) {
			log.warn("could not unregister worker {} on exit: {}", workerId, ex.toString());
		}
	}

	@Override
	public boolean isRunning() {
		return running;
	}

	@Override
	public int getPhase() {
		return WorkerPhase.HEARTBEAT.phase();
	}

	void beat() {
		if (!running) {
			return;
		}
		attempted = System.nanoTime();
		try {
			boolean continuous = liveness.heartbeat(workerId, ttl);
			readiness.beat();
			fenced = false;
			if (!continuous) {
				log.warn("worker {} was out of touch past its heartbeat TTL (or Redis lost its data); "
						+ "re-checking its runs", workerId);
				revalidator.revalidate();
			}
		}
		catch (RuntimeException ex) {
			log.warn("heartbeat of worker {} failed: {}", workerId, ex.toString());
		}
	}

	/**
	 * Stops the local runs once a renewal has been outstanding or failing for longer than
	 * the TTL. Only a renewal tried and not achieved counts: a process that was merely
	 * frozen (SIGSTOP, a long GC) renews on waking and re-checks its runs instead.
	 */
	void fenceIfCutOff() {
		if (!running || tasks.size() == 0) {
			return;
		}
		long lastBeat = readiness.lastBeat();
		if (attempted - lastBeat <= 0 || readiness.sinceLastBeat().compareTo(ttl) <= 0) {
			return;
		}
		List<RunningTask> local = tasks.list();
		local.forEach(task -> task.requestStop(StopReason.LOST));
		if (!fenced) {
			fenced = true;
			log.warn(
					"worker {} has not renewed its heartbeat for {} (TTL {}): cut off from Redis, its runs are "
							+ "reaped elsewhere; stopped {} local run(s)",
					workerId, readiness.sinceLastBeat(), ttl, local.size());
		}
	}

}
