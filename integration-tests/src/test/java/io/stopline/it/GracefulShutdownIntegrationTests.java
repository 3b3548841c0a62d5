package io.stopline.it;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.stopline.it.Api.ChatStream;
import io.stopline.core.schema.Keys;
import io.stopline.core.ops.StopAudit;
import io.stopline.core.liveness.WorkerLiveness;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * SIGTERM to a worker process started from the jar with its DEFAULT settings
 * ({@code shutdown-grace} 10 s, {@code heartbeat-ttl} 10 s): the runs it cannot finish
 * within the grace end {@code stopped} with reason {@code shutdown} and their partial
 * answers, not {@code interrupted} by another node's reaper while the worker still works
 * on them.
 */
class GracefulShutdownIntegrationTests {

	private static final int LONG_RUN = 5000;

	private static final Duration BOUND = Duration.ofSeconds(30);

	private static TestRedis redis;

	private static Cluster gateways;

	private static RedisInspector inspector;

	@BeforeAll
	static void start() {
		redis = TestRedis.dedicatedProcess();
		gateways = Cluster.start(redis, 1, 0, Map.of());
		inspector = new RedisInspector(redis);
	}

	@AfterAll
	static void stop() {
		if (gateways != null) {
			gateways.close();
		}
		if (inspector != null) {
			inspector.close();
		}
		if (redis != null) {
			redis.close();
		}
	}

	@Test
	void sigtermWithDefaultSettingsKeepsEveryPartialAnswerAsStoppedForShutdown() throws Exception {
		try (WorkerProcess worker = WorkerProcess.start(redis.url(),
				"proc-" + UUID.randomUUID().toString().substring(0, 8), Map.of())) {
			Invariants invariants = Invariants.watch("worker SIGTERM with default settings",
					gateways.api(0, "alice-" + UUID.randomUUID()), inspector.template());
			Api alice = invariants.api();
			Map<String, ChatStream> runs = new LinkedHashMap<>();
			for (int i = 0; i < 3; i++) {
				String id = "conv-" + UUID.randomUUID();
				runs.put(id, alice.chatStream(id, LONG_RUN));
			}
			await().atMost(BOUND).untilAsserted(() -> {
				JsonNode active = alice.active().json().get("active_conversations");
				runs.keySet()
					.forEach(
							id -> assertThat(active.has(id) && active.get(id).get("state").asString().equals("running"))
								.as("%s running", id)
								.isTrue());
				Long queued = inspector.template().opsForStream().size(Keys.JOBS);
				assertThat(queued == null ? 0 : queued).as("queued jobs").isZero();
			});

			long signalled = System.nanoTime();
			worker.terminate();
			int exit = worker.awaitExit(BOUND);
			long exitedMillis = (System.nanoTime() - signalled) / 1_000_000;

			StringBuilder kept = new StringBuilder();
			for (Map.Entry<String, ChatStream> run : runs.entrySet()) {
				List<String> events = run.getValue().drain(BOUND);
				JsonNode answer = alice.history(run.getKey()).json().get("messages").get(1);
				kept.append(answer.get("content").asString().length()).append(' ');
				assertThat(answer.get("status").asString()).as("%s", run.getKey()).isEqualTo("stopped");
				assertThat(answer.get("stop_reason").asString()).isEqualTo("shutdown");
				assertThat(answer.get("content").asString()).as("the partial answer is kept")
					.isNotEmpty()
					.isEqualTo(streamedText(events));
				assertThat(events).as("the client is told")
					.anyMatch(e -> e.contains("\"finish_reason\":\"cancelled\""));
			}
			System.out.printf("[shutdown] SIGTERM with default settings, 3 long runs: exited (%d) after %d ms; "
					+ "characters kept per answer: %s%n", exit, exitedMillis, kept.toString().trim());
			assertThat(exitedMillis).as("grace (10 s) plus the stop").isLessThan(20_000);
			assertThat(alice.active().json().get("active_conversations").isEmpty()).isTrue();
			assertThat(new WorkerLiveness(inspector.template()).knownWorkers()).doesNotContain(worker.id());
			await().atMost(BOUND)
				.untilAsserted(() -> assertThat(new StopAudit(inspector.template()).read(alice.userId(), null, 100))
					.allSatisfy(entry -> assertThat(entry.by()).isEqualTo("system"))
					.extracting(StopAudit.Entry::reason)
					.containsExactly("shutdown", "shutdown", "shutdown"));
			// healed: another worker takes the conversations' next messages
			try (WorkerProcess next = WorkerProcess.start(redis.url(),
					"proc-" + UUID.randomUUID().toString().substring(0, 8), Map.of())) {
				invariants.assertHold(BOUND);
			}
		}
		inspector.assertNoLeaks();
	}

	private static String streamedText(List<String> events) {
		StringBuilder text = new StringBuilder();
		for (String event : events) {
			if (event.startsWith("{")) {
				JsonNode choices = Api.JSON.readTree(event).get("choices");
				if (choices != null && !choices.isEmpty() && choices.get(0).get("delta").has("content")) {
					text.append(choices.get(0).get("delta").get("content").asString());
				}
			}
		}
		return text.toString();
	}

}
