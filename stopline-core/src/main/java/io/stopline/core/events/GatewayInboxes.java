package io.stopline.core.events;

import io.stopline.protocol.Json;
import io.stopline.protocol.RunEvent;
import io.stopline.core.schema.Channels;
import io.stopline.core.schema.Keys;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;

/**
 * Publishes run events to the inbox channel of a gateway
 * ({@code stopline:{g:<gateway>}:inbox}), where that gateway routes them to the client
 * connection or the stop request waiting for them.
 */
public final class GatewayInboxes {

	private final RedissonClient redisson;

	public GatewayInboxes(RedissonClient redisson) {
		this.redisson = redisson;
	}

	public RTopic inbox(String gatewayId) {
		return Channels.topic(redisson, Keys.gatewayInbox(gatewayId));
	}

	public void publish(String gatewayId, RunEvent event) {
		send(gatewayId, Json.write(event));
	}

	/**
	 * Sends and waits without being interruptible: a stop interrupts the generating
	 * thread, and an interrupted synchronous publish may be cancelled before it is
	 * written, losing a token the history already holds. The caller checks its interrupt
	 * right after.
	 */
	private void send(String gatewayId, String json) {
		inbox(gatewayId).publishAsync(json).toCompletableFuture().join();
	}

}
