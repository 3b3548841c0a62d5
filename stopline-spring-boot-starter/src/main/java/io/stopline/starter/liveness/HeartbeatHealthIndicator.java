package io.stopline.starter.liveness;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * {@code heartbeat}: the worker's heartbeat key was renewed within its TTL, so no reaper
 * takes its runs.
 */
class HeartbeatHealthIndicator implements HealthIndicator {

	private final WorkerReadiness readiness;

	HeartbeatHealthIndicator(WorkerReadiness readiness) {
		this.readiness = readiness;
	}

	@Override
	public Health health() {
		Health.Builder health = readiness.heartbeatFresh() ? Health.up() : Health.down();
		return health.withDetail("since_last_beat_ms", readiness.sinceLastBeat().toMillis()).build();
	}

}
