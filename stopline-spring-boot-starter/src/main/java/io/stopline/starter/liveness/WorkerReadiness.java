package io.stopline.starter.liveness;

import java.time.Duration;

import io.stopline.starter.WorkerProperties;

/**
 * Whether this worker may take runs: it must be able to hear stops (its stop channel is
 * subscribed) and be seen alive (its heartbeat was renewed within the TTL). A worker that
 * cannot hear stops takes no new runs and reports not ready.
 */
public class WorkerReadiness {

	private final Duration heartbeatTtl;

	private volatile long lastBeat;

	private volatile boolean subscribed;

	WorkerReadiness(WorkerProperties properties) {
		this.heartbeatTtl = properties.heartbeatTtl();
	}

	void beat() {
		lastBeat = System.nanoTime();
	}

	public void stopsAudible(boolean audible) {
		subscribed = audible;
	}

	public boolean stopsAudible() {
		return subscribed;
	}

	public boolean heartbeatFresh() {
		return lastBeat != 0 && System.nanoTime() - lastBeat < heartbeatTtl.toNanos();
	}

	/** The last successful renewal (nanoTime), 0 before the first. */
	long lastBeat() {
		return lastBeat;
	}

	Duration sinceLastBeat() {
		return lastBeat == 0 ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - lastBeat);
	}

	public boolean isReady() {
		return subscribed && heartbeatFresh();
	}

}
