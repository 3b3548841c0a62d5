package io.stopline.core.run;

import io.stopline.testing.RedisClients;
import io.stopline.testing.TestRedis;
import io.stopline.core.schema.Keys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The registry contract against a real Redis. */
class RedisConversationRegistryIntegrationTests extends ConversationRegistryContractTests {

	private static RedisClients clients;

	@BeforeAll
	static void connect() {
		clients = new RedisClients(TestRedis.shared());
	}

	@AfterAll
	static void disconnect() {
		clients.close();
	}

	static RedisClients clients() {
		return clients;
	}

	@Override
	protected void forget(RunRecord run) {
		clients.template()
			.delete(java.util.List.of(Keys.runs(run.userId()), Keys.messages(run.userId(), run.conversationId()),
					Keys.workerRuns(run.workerId())));
	}

	@Override
	protected void loseClaim(RunRecord queued) {
		clients.template()
			.opsForHash()
			.put(Keys.runs(queued.userId()), queued.conversationId(),
					io.stopline.protocol.Json.write(StoredRun.of(queued)));
	}

	@Override
	protected ConversationRegistry createRegistry() {
		return new RedisConversationRegistry(clients.template());
	}

}
