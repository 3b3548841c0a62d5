package io.stopline.gateway.inbox;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code inbox}: this gateway's inbox channel is subscribed, so stop confirmations and
 * tokens reach it.
 */
@Component
class InboxHealthIndicator implements HealthIndicator {

	private final GatewayInbox inbox;

	InboxHealthIndicator(GatewayInbox inbox) {
		this.inbox = inbox;
	}

	@Override
	public Health health() {
		return inbox.isSubscribed() ? Health.up().build()
				: Health.down().withDetail("reason", "inbox channel not subscribed").build();
	}

}
