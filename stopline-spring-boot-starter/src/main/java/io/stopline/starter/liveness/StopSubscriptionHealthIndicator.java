package io.stopline.starter.liveness;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * {@code stopSubscription}: the worker's stop channel is subscribed, so it hears stops at
 * once.
 */
class StopSubscriptionHealthIndicator implements HealthIndicator {

	private final WorkerReadiness readiness;

	StopSubscriptionHealthIndicator(WorkerReadiness readiness) {
		this.readiness = readiness;
	}

	@Override
	public Health health() {
		return readiness.stopsAudible() ? Health.up().build()
				: Health.down().withDetail("reason", "stop channel not subscribed").build();
	}

}
