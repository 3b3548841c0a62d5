package io.stopline.worker.liveness;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;

import io.stopline.registry.WorkerLiveness;
import io.stopline.worker.WorkerProperties;
import io.stopline.worker.task.RunRevalidator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.stereotype.Component;

/**
 * Keeps this worker's heartbeat key alive (renewed every third of its TTL) and removes
 * every trace of the worker on a clean exit.
 */
@Component
class Heartbeat implements SmartLifecycle {

	private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);

	private final WorkerLiveness liveness;

	private final String workerId;

	private final Duration ttl;

	private final TaskScheduler scheduler;

	private final RunRevalidator revalidator;

	private final WorkerReadiness readiness;

	private volatile boolean running;

	private ScheduledFuture<?> beating;

	Heartbeat(WorkerLiveness liveness, TaskScheduler scheduler, RunRevalidator revalidator, WorkerReadiness readiness,
			WorkerProperties properties) {
		this.readiness = readiness;
		this.liveness = liveness;
		this.revalidator = revalidator;
		this.scheduler = scheduler;
		this.workerId = properties.id();
		this.ttl = properties.heartbeatTtl();
	}

	@Override
	public void start() {
		liveness.heartbeat(workerId, ttl);
		readiness.beat();
		running = true;
		beating = scheduler.scheduleAtFixedRate(this::beat, ttl.dividedBy(3));
		log.info("worker {} alive", workerId);
	}

	@Override
	public void stop() {
		running = false;
		if (beating != null) {
			beating.cancel(false);
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

	/**
	 * Announced before the stop listener and the consumer start; forgotten after they
	 * stopped.
	 */
	@Override
	public int getPhase() {
		return Integer.MAX_VALUE - 300;
	}

	void beat() {
		if (!running) {
			return;
		}
		try {
			boolean continuous = liveness.heartbeat(workerId, ttl);
			readiness.beat();
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

}
