package io.stopline.core.schema;

import io.stopline.testing.RedisClients;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.Test;
import org.redisson.api.RShardedTopic;

import static org.assertj.core.api.Assertions.assertThat;

/** What each Redis topology allows, decided in one place. */
class TopologyTests {

	@Test
	void oneRedisReachesEveryTagFromOneScriptAndPublishesOnClassicChannels() {
		assertThat(Topology.SINGLE_SLOT.acrossTags(() -> "signal")).contains("signal");
		assertThat(Topology.SINGLE_SLOT.publishCommand()).isEqualTo("PUBLISH");
	}

	@Test
	void clusterLeavesOtherTagsToTheCallerAndPublishesOnShardChannels() {
		assertThat(Topology.CLUSTER.acrossTags(() -> {
			throw new AssertionError("not computed on Cluster");
		})).isEmpty();
		assertThat(Topology.CLUSTER.publishCommand()).isEqualTo("SPUBLISH");
	}

	@Test
	void aSingleRedisClientIsSingleSlotWithClassicTopics() {
		try (RedisClients clients = new RedisClients(TestRedis.shared())) {
			assertThat(Topology.of(clients.redisson())).isEqualTo(Topology.SINGLE_SLOT);
			assertThat(Channels.topic(clients.redisson(), "stopline:{w:t}:stop")).isNotInstanceOf(RShardedTopic.class);
		}
	}

}
