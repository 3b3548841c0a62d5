package io.stopline.it;

import io.stopline.protocol.RunStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.stopline.core.run.ConversationRegistry;
import io.stopline.protocol.HistoryMessage;
import io.stopline.core.run.RedisConversationRegistry;
import io.stopline.core.run.RunOutcome;
import io.stopline.core.run.RunRecord;
import io.stopline.core.liveness.WorkerLiveness;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.Test;

import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.SmartLifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A gateway keeps reaping dead workers' runs while it shuts down. Its reaper runs on a
 * timer thread of its own and stops after the web server; on Spring's shared scheduler
 * (shut down at {@code ContextClosedEvent}, before any lifecycle stops) it went silent
 * the moment the shutdown began.
 */
class GatewayShutdownReaperIntegrationTests {

	private static final Duration BOUND = Duration.ofSeconds(15);

	@Test
	void aGatewayStillReapsADeadWorkersRunWhileItShutsDown() throws Exception {
		CountDownLatch shuttingDown = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		try (TestRedis redis = TestRedis.dedicatedProcess();
				RedisInspector inspector = new RedisInspector(redis);
				Cluster cluster = Cluster.start(redis, 0, 0, Map.of(),
						Map.of("stopline.gateway.reaper-interval", "200ms"))) {
			var gateway = cluster.addGateway(context -> context.getBeanFactory()
				.registerSingleton("holdShutdown", new HoldShutdown(shuttingDown, release)));
			Thread closing = Thread.ofVirtual().name("gateway-close").start(gateway::close);
			try {
				assertThat(shuttingDown.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("shutdown under way").isTrue();
				ConversationRegistry registry = new RedisConversationRegistry(inspector.template());
				RunRecord run = runOfADeadWorker(registry, new WorkerLiveness(inspector.template()));

				long plantedAt = System.nanoTime();
				await().atMost(BOUND).until(() -> registry.find(run.userId(), run.conversationId()).isEmpty());
				System.out.printf(
						"[fault] a gateway shutting down reaped a dead worker's run %d ms after it was " + "planted%n",
						(System.nanoTime() - plantedAt) / 1_000_000);
				assertThat(closing.isAlive()).as("reaped while the gateway was still shutting down").isTrue();
				assertThat(registry.history(run.userId(), run.conversationId())).last()
					.satisfies(message -> assertThat(message.status()).isEqualTo(RunStatus.INTERRUPTED.wireName()));
			}
			finally {
				release.countDown();
				closing.join(BOUND);
			}
		}
	}

	/** A running record of a worker that beat once, with a TTL that has lapsed. */
	private static RunRecord runOfADeadWorker(ConversationRegistry registry, WorkerLiveness liveness) {
		String worker = "dead-" + UUID.randomUUID();
		liveness.heartbeat(worker, Duration.ofMillis(100));
		RunRecord queued = RunRecord.queued("r-" + UUID.randomUUID(), "alice-" + UUID.randomUUID(), "c1", "assistant",
				"g-" + UUID.randomUUID(), Instant.now());
		registry.reserve(queued, HistoryMessage.user("hi", queued.runId(), Instant.now()), 10);
		RunRecord running = registry.claim(queued, worker, Instant.now()).orElseThrow();
		await().atMost(BOUND).until(() -> !liveness.isAlive(worker));
		return running;
	}

	/**
	 * Holds the gateway's shutdown after its web server's graceful phase, as a gateway
	 * draining long requests would.
	 */
	private record HoldShutdown(CountDownLatch shuttingDown, CountDownLatch release) implements SmartLifecycle {

		@Override
		public void start() {
		}

		@Override
		public void stop() {
			shuttingDown.countDown();
			try {
				release.await(BOUND.toSeconds() * 2, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}

		@Override
		public boolean isRunning() {
			return shuttingDown.getCount() > 0;
		}

		@Override
		public int getPhase() {
			return WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE - 1;
		}

	}

}
