package io.stopline.registry;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.stopline.protocol.Json;
import io.stopline.protocol.RunEvent;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;

/**
 * Publishes a run's events where they are awaited: the inbox of each gateway waiting for
 * the run (its client's stream, its stop requests) and the conversation's event channel
 * ({@code stopline:{u:<user>}:conv:<id>:events}), which every gateway with a WebSocket on
 * the conversation subscribes to. The publishes go out together and are awaited together,
 * so a run's events stay in order on each channel.
 */
public final class RunEvents {

	private final RedissonClient redisson;

	private final GatewayInboxes inboxes;

	public RunEvents(RedissonClient redisson, GatewayInboxes inboxes) {
		this.redisson = redisson;
		this.inboxes = inboxes;
	}

	public RTopic conversation(String userId, String conversationId) {
		return Channels.topic(redisson, Keys.conversationEvents(userId, conversationId));
	}

	/** To one gateway's inbox only: answers that concern nobody else. */
	public void toGateway(String gatewayId, RunEvent event) {
		inboxes.publish(gatewayId, event);
	}

	/** To the conversation's watchers only. */
	public void toConversation(String userId, RunEvent event) {
		publish(userId, List.of(), event);
	}

	public void publish(String userId, String gatewayId, RunEvent event) {
		publish(userId, List.of(gatewayId), event);
	}

	/**
	 * To each distinct gateway and to the conversation's channel. Waits without being
	 * interruptible, like {@link GatewayInboxes}: a stop's interrupt must not cancel the
	 * publish of a token the history already holds.
	 */
	public void publish(String userId, Collection<String> gatewayIds, RunEvent event) {
		String json = Json.write(event);
		List<CompletableFuture<Long>> sent = new ArrayList<>(gatewayIds.size() + 1);
		for (String gatewayId : new LinkedHashSet<>(gatewayIds)) {
			sent.add(inboxes.inbox(gatewayId).publishAsync(json).toCompletableFuture());
		}
		sent.add(conversation(userId, event.conversationId()).publishAsync(json).toCompletableFuture());
		CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).join();
	}

}
