package io.stopline.core.run;

import io.stopline.core.schema.Topology;

/**
 * The registry contract in the mode Redis Cluster needs, on a real Redis: the worker's
 * index and stop set are written in steps of their own, since one script cannot reach
 * both slots there.
 */
class TwoStepRedisConversationRegistryIntegrationTests extends RedisConversationRegistryIntegrationTests {

	@Override
	protected ConversationRegistry createRegistry() {
		return new RedisConversationRegistry(clients().template(), null, Runnable::run, Topology.CLUSTER);
	}

	@Override
	protected boolean reserveQueuesJobs() {
		return false;
	}

}
