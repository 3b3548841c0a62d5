package io.stopline.core.schema;

import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;

/**
 * The pub/sub channels of the schema as Redisson topics, in the shape the client's
 * {@link Topology} needs: shard channels on Redis Cluster, classic channels on one Redis
 * or Sentinel. Every channel name carries the hash tag of the keys it goes with
 * ({@code {w:<worker>}}, {@code {u:<user>}}, {@code {g:<gateway>}}), so a script can
 * record a stop and publish it in one slot.
 */
public final class Channels {

	private Channels() {
	}

	public static RTopic topic(RedissonClient redisson, String channel) {
		return Topology.of(redisson).topic(redisson, channel);
	}

}
