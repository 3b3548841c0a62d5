package io.stopline.core.events;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.redisson.Redisson;
import org.redisson.api.BatchOptions;
import org.redisson.api.RBatch;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

import io.stopline.core.schema.Channels;
import io.stopline.core.schema.Topology;

/**
 * The token data plane: a Redisson client of its own (its own connections, event loops
 * and listener executor) for token frames and the conversation channels that carry them.
 * Stops, confirmations, claims, finishes and heartbeats stay on the node's main client,
 * so a saturated token stream can neither delay nor time out a stop ("Command still
 * hasn't been written into connection" was seen on a shared client under load).
 */
public final class TokenPlane implements AutoCloseable {

	/** Channels one subscribed connection of the token plane carries, at most. */
	static final int CHANNELS_PER_CONNECTION = 500;

	private final RedissonClient redisson;

	private final boolean ownsClient;

	private TokenPlane(RedissonClient redisson, boolean ownsClient) {
		this.redisson = redisson;
		this.ownsClient = ownsClient;
	}

	/** A second client with the control plane's configuration (server, TLS, tuning). */
	public static TokenPlane apartFrom(RedissonClient control) {
		Config config = new Config(control.getConfig());
		// its own threads: sharing the control client's executors would share its queues
		config.setExecutor(null);
		config.setEventLoopGroup(null);
		config.setNettyExecutor(null);
		allowManyChannels(config);
		return new TokenPlane(Redisson.create(config), true);
	}

	/**
	 * Every watched conversation is a channel of this client. Redisson's default of 5
	 * channels per subscribed connection, 50 such connections, capped a gateway at 250
	 * watched conversations ("Unable to acquire connection for subscription" with 400
	 * chats streaming, a fifth of them watched); Redis itself has no such limit.
	 */
	private static void allowManyChannels(Config config) {
		if (config.isSingleConfig()) {
			config.useSingleServer().setSubscriptionsPerConnection(CHANNELS_PER_CONNECTION);
		}
		else if (config.isSentinelConfig()) {
			config.useSentinelServers().setSubscriptionsPerConnection(CHANNELS_PER_CONNECTION);
		}
		else if (config.isClusterConfig()) {
			config.useClusterServers().setSubscriptionsPerConnection(CHANNELS_PER_CONNECTION);
		}
	}

	/** Tokens and control on one client: tests and tools that build a single client. */
	public static TokenPlane sharing(RedissonClient client) {
		return new TokenPlane(client, false);
	}

	public RTopic topic(String channel) {
		return Channels.topic(redisson, channel);
	}

	/**
	 * {@code PUBLISH} (or {@code SPUBLISH} on Redis Cluster) of each message to its
	 * channel, pipelined in one write: the stage completes when Redis has taken them all.
	 */
	public CompletableFuture<Void> publishAll(List<Map.Entry<String, String>> messages) {
		if (messages.size() == 1) {
			Map.Entry<String, String> only = messages.getFirst();
			return topic(only.getKey()).publishAsync(only.getValue())
				.toCompletableFuture()
				.thenApply(receivers -> null);
		}
		RBatch batch = redisson.createBatch(BatchOptions.defaults());
		Topology topology = Topology.of(redisson);
		for (Map.Entry<String, String> message : messages) {
			topology.topic(batch, message.getKey()).publishAsync(message.getValue());
		}
		return batch.executeAsync().toCompletableFuture().thenApply(result -> null);
	}

	@Override
	public void close() {
		if (ownsClient) {
			redisson.shutdown();
		}
	}

}
