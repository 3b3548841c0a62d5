package io.stopline.registry;

import java.util.Collection;
import java.util.LinkedHashSet;

import io.stopline.protocol.Json;
import io.stopline.protocol.RunEvent;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

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
		return redisson.getTopic(Keys.gatewayInbox(gatewayId), StringCodec.INSTANCE);
	}

	public void publish(String gatewayId, RunEvent event) {
		inbox(gatewayId).publish(Json.write(event));
	}

	/** Publishes once to each distinct gateway. */
	public void publish(Collection<String> gatewayIds, RunEvent event) {
		String json = Json.write(event);
		new LinkedHashSet<>(gatewayIds).forEach(id -> inbox(id).publish(json));
	}

}
