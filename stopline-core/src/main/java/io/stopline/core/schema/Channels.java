package io.stopline.core.schema;

import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * The pub/sub channels of the schema as Redisson topics. On Redis Cluster they are shard
 * channels ({@code SPUBLISH}/{@code SSUBSCRIBE}, Redisson's {@code RShardedTopic}): a
 * message then travels only within the shard that owns the channel's slot instead of
 * being broadcast to every node, and every channel name carries the hash tag of the keys
 * it goes with ({@code {w:<worker>}}, {@code {u:<user>}}, {@code {g:<gateway>}}), so a
 * script can record a stop and publish it in one slot. On a single Redis or Sentinel they
 * are classic channels.
 */
public final class Channels {

	private Channels() {
	}

	public static boolean sharded(RedissonClient redisson) {
		return redisson.getConfig().isClusterConfig();
	}

	public static RTopic topic(RedissonClient redisson, String channel) {
		return sharded(redisson) ? redisson.getShardedTopic(channel, StringCodec.INSTANCE)
				: redisson.getTopic(channel, StringCodec.INSTANCE);
	}

}
