package io.stopline.core.ops;

import java.lang.reflect.Modifier;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.stopline.testing.RedisClients;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link StopStats#flush()} runs on request threads (virtual ones): it holds no monitor
 * around its Redis call (on JDK 21 a virtual thread inside {@code synchronized} pins its
 * carrier for the whole round trip), and concurrent flushes still add every count once.
 */
class StopStatsFlushIntegrationTests {

	private static RedisClients clients;

	@BeforeAll
	static void connect() {
		clients = new RedisClients(TestRedis.shared());
	}

	@AfterAll
	static void disconnect() {
		clients.close();
	}

	@Test
	void flushHoldsNoMonitor() throws NoSuchMethodException {
		assertThat(Modifier.isSynchronized(StopStats.class.getMethod("flush").getModifiers())).isFalse();
	}

	@Test
	void concurrentFlushesFromVirtualThreadsAddEveryCountOnce() throws Exception {
		StopStats stats = new StopStats(clients.template());
		String outcome = "test-" + UUID.randomUUID();
		Instant now = Instant.now();
		List<Future<?>> done = new ArrayList<>();
		try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
			for (int i = 0; i < 200; i++) {
				done.add(threads.submit(() -> {
					stats.stopRequested(outcome, now);
					stats.flush();
				}));
			}
			for (Future<?> each : done) {
				each.get();
			}
		}
		stats.flush();

		long counted = stats.hours(now, now.plusSeconds(1)).get(0).get("stop:" + outcome);
		assertThat(counted).isEqualTo(200);
	}

}
