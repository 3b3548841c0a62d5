package io.stopline.worker.liveness;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code stopSubscription}: the worker's stop channel is subscribed, so it hears stops at
 * once.
 */
@Component
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
