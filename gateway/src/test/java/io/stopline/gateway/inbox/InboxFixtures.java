package io.stopline.gateway.inbox;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.stopline.gateway.GatewayProperties;
import io.stopline.core.events.GatewayInboxes;
import io.stopline.core.events.RunEvents;

/**
 * A gateway inbox for tests of the parts that wait on it (its constructor is
 * package-private).
 */
public final class InboxFixtures {

	private InboxFixtures() {
	}

	/** Subscribed to its channel; stop it when done. */
	public static GatewayInbox started(GatewayInboxes inboxes, RunEvents events, GatewayProperties properties) {
		GatewayInbox inbox = new GatewayInbox(inboxes, events, properties, new SimpleMeterRegistry());
		inbox.start();
		return inbox;
	}

}
