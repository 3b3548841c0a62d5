package io.stopline.core.schema;

import java.util.Optional;
import java.util.function.Supplier;

import org.redisson.api.RBatch;
import org.redisson.api.RTopic;
import org.redisson.api.RTopicAsync;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * How the schema's hash tags lie on Redis, chosen once from the client's configuration.
 * On one Redis or Sentinel ({@link #SINGLE_SLOT}) one script reaches the keys and
 * channels of every tag. On Redis Cluster ({@link #CLUSTER}) the keys of a user
 * ({@code {u:<user>}}), of a worker ({@code {w:<worker>}}), of a gateway
 * ({@code {g:<gateway>}}) and the global ones lie in different slots: a script reaches
 * only the keys and channels of its own tag, and the channels are shard channels
 * ({@code SPUBLISH}/{@code SSUBSCRIBE}, Redisson's {@code RShardedTopic}), so a message
 * travels only within the shard that owns its slot instead of being broadcast to every
 * node.
 */
public sealed interface Topology permits Topology.SingleSlot, Topology.Cluster {

	/** One Redis, or a Sentinel-managed master. */
	Topology SINGLE_SLOT = new SingleSlot();

	/** Redis Cluster. */
	Topology CLUSTER = new Cluster();

	static Topology of(RedissonClient redisson) {
		return redisson.getConfig().isClusterConfig() ? CLUSTER : SINGLE_SLOT;
	}

	/** A channel of the schema as a Redisson topic. */
	RTopic topic(RedissonClient redisson, String channel);

	/** The same channel within a pipelined batch (the token plane's frame writes). */
	RTopicAsync topic(RBatch batch, String channel);

	/** The command a script publishes with. */
	String publishCommand();

	/**
	 * What a script on one tag would also write to or publish on other tags: computed
	 * where one script reaches them all, empty on Cluster, where the caller takes that
	 * step on its own.
	 */
	<T> Optional<T> acrossTags(Supplier<T> step);

	record SingleSlot() implements Topology {

		@Override
		public RTopic topic(RedissonClient redisson, String channel) {
			return redisson.getTopic(channel, StringCodec.INSTANCE);
		}

		@Override
		public RTopicAsync topic(RBatch batch, String channel) {
			return batch.getTopic(channel, StringCodec.INSTANCE);
		}

		@Override
		public String publishCommand() {
			return "PUBLISH";
		}

		@Override
		public <T> Optional<T> acrossTags(Supplier<T> step) {
			return Optional.of(step.get());
		}

	}

	record Cluster() implements Topology {

		@Override
		public RTopic topic(RedissonClient redisson, String channel) {
			return redisson.getShardedTopic(channel, StringCodec.INSTANCE);
		}

		@Override
		public RTopicAsync topic(RBatch batch, String channel) {
			return batch.getShardedTopic(channel, StringCodec.INSTANCE);
		}

		@Override
		public String publishCommand() {
			return "SPUBLISH";
		}

		@Override
		public <T> Optional<T> acrossTags(Supplier<T> step) {
			return Optional.empty();
		}

	}

}
