package io.stopline.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Response;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Client-chosen run ids (issue 18, item 2) through two gateways and two workers: a second
 * send with the same run id joins the run instead of starting another; a stop for a run
 * id that has not arrived leaves a tombstone, and the late send is answered as a stopped
 * run that never started; fuzzed with the stop 0 to 200 ms before or after its send, zero
 * runs are left going.
 */
class RunIdIntegrationTests {

	private static final int LONG_RUN = 5000;

	private static final Duration BOUND = Duration.ofSeconds(20);

	private static TestRedis redis;

	private static Cluster cluster;

	private static RedisInspector inspector;

	@BeforeAll
	static void start() {
		redis = TestRedis.dedicatedProcess();
		cluster = Cluster.start(redis, 2, 2, Map.of("stopline.worker.max-concurrent-runs", "64"),
				Map.of("stopline.gateway.max-active-runs-per-user", "10000", "stopline.gateway.stop-rate-limit.permits",
						"1000000"));
		inspector = new RedisInspector(redis);
	}

	@AfterAll
	static void stop() {
		if (cluster != null) {
			cluster.close();
		}
		if (inspector != null) {
			inspector.close();
		}
		if (redis != null) {
			redis.close();
		}
	}

	@AfterEach
	void nothingLeft() {
		await().atMost(BOUND).until(() -> cluster.tasks(0).size() + cluster.tasks(1).size() == 0);
		inspector.assertNoLeaks();
	}

	@Test
	void aSecondSendWithTheSameRunIdJoinsTheRunOnAnyGateway() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		String id = "join-" + UUID.randomUUID();
		String runId = "r-" + UUID.randomUUID();
		ChatStream first = alice.chatStream(id, LONG_RUN, Map.of("run_id", runId));
		List<String> firstSeen = awaitContent(first);

		ChatStream second = alice.at(cluster.gatewayUrl(1)).chatStream(id, LONG_RUN, Map.of("run_id", runId));
		List<String> secondSeen = awaitContent(second);
		assertThat(alice.stop(id, Map.of("run_id", runId)).status()).isEqualTo(200);

		List<String> firstEvents = concat(firstSeen, first.drain(BOUND));
		List<String> secondEvents = concat(secondSeen, second.drain(BOUND));
		JsonNode messages = alice.history(id).json().get("messages");
		assertThat(messages).as("one run: one user message, its answer, the notice").hasSize(3);
		String recorded = messages.get(1).get("content").asString();
		assertThat(messages.get(1).get("status").asString()).isEqualTo("stopped");
		assertThat(streamed(firstEvents)).isEqualTo(recorded);
		assertThat(streamed(secondEvents)).as("the joined stream: no gap, no duplicate").isEqualTo(recorded);
		assertThat(secondEvents).anyMatch(event -> event.contains("\"finish_reason\":\"cancelled\""));

		// the same run id once more, after its end, with the header: answered with its
		// end
		Response again = alice.at(cluster.gatewayUrl(1))
			.raw("POST", "/v1/chat/completions",
					Api.JSON.writeValueAsString(Map.of("model", "assistant", "conversation_id", id, "messages",
							List.of(Map.of("role", "user", "content", "Tell me a story")))),
					Map.of("Authorization", "Bearer " + alice.token(), "Content-Type", "application/json",
							"Idempotency-Key", runId));
		assertThat(again.status()).isEqualTo(200);
		assertThat(again.json().get("choices").get(0).get("message").get("content").asString()).isEqualTo(recorded);
		assertThat(again.json().get("choices").get(0).get("finish_reason").asString()).isEqualTo("cancelled");
		assertThat(alice.history(id).json().get("messages")).as("still one run").hasSize(3);
	}

	@Test
	void aStopBeforeItsSendStopsTheRunWhenTheSendArrives() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		String id = "early-" + UUID.randomUUID();
		String runId = "r-" + UUID.randomUUID();

		Response stop = alice.at(cluster.gatewayUrl(1)).stop(id, Map.of("run_id", runId));
		assertThat(stop.status()).isEqualTo(202);
		assertThat(stop.json().get("message").asString()).isEqualTo("Stop requested for conversation " + id);

		List<String> events = alice.chatStream(id, LONG_RUN, Map.of("run_id", runId)).drain(BOUND);
		assertThat(events).anyMatch(event -> event.contains("\"finish_reason\":\"cancelled\""));
		assertThat(streamed(events)).isEmpty();
		assertThat(alice.active().json().get("active_conversations").size()).isZero();
		assertThat(alice.history(id).status()).as("the run never existed").isEqualTo(404);

		// another run id of the conversation is not affected
		ChatStream other = alice.chatStream(id, 3, Map.of("run_id", "r-" + UUID.randomUUID()));
		assertThat(other.drain(BOUND)).anyMatch(event -> event.contains("\"finish_reason\":\"stop\""));
	}

	@Test
	void aStopForAnotherRunIdNeverStopsTheActiveRun() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		String id = "other-" + UUID.randomUUID();
		ChatStream running = alice.chatStream(id, LONG_RUN, Map.of("run_id", "r-active"));
		awaitContent(running);

		assertThat(alice.stop(id, Map.of("run_id", "r-next")).status()).isEqualTo(202);
		assertThat(alice.active().json().get("active_conversations").has(id)).as("still generating").isTrue();
		assertThat(alice.stop(id).status()).isEqualTo(200);
		running.drain(BOUND);
	}

	/**
	 * Send/stop pairs with a run id, the stop 0 to 200 ms before or after its send,
	 * through both gateways: every stop is answered 200 or 202 (never 404: the runs are
	 * long), every send ends cancelled with exactly the recorded text (empty when the run
	 * never started), and no run is left going.
	 */
	@Test
	void stopsAroundTheSendLeaveZeroRunsGoing() throws Exception {
		String configured = System.getProperty("stopline.fuzz.run-id-pairs", "");
		int pairs = configured.isBlank() ? 2000 : Integer.parseInt(configured);
		Api alice = cluster.api(0, "fuzz-" + UUID.randomUUID());
		List<String> failures = Collections.synchronizedList(new ArrayList<>());
		Map<String, Long> outcomes = new java.util.concurrent.ConcurrentSkipListMap<>();
		Semaphore inFlight = new Semaphore(16);
		long started = System.nanoTime();
		try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
			for (int i = 0; i < pairs; i++) {
				inFlight.acquire();
				int index = i;
				pool.execute(() -> {
					try {
						outcomes.merge(pair(alice, index), 1L, Long::sum);
					}
					catch (Throwable ex) {
						failures.add(ex.toString());
					}
					finally {
						inFlight.release();
					}
				});
			}
		}
		long elapsed = (System.nanoTime() - started) / 1_000_000;
		await().atMost(BOUND)
			.until(() -> alice.active().json().get("active_conversations").size() == 0
					&& cluster.tasks(0).size() + cluster.tasks(1).size() == 0);
		System.out.printf("[run-id] %d send/stop pairs (stop -200..+200 ms around the send) in %d ms: %s; "
				+ "runs left going: 0%n", pairs, elapsed, outcomes);
		assertThat(failures).isEmpty();
		assertThat(outcomes.keySet()).as("both orders happened")
			.anyMatch(kind -> kind.startsWith("never-started"))
			.anyMatch(kind -> kind.startsWith("stopped"));
	}

	/** One pair; returns what happened to its run (for the tally). */
	private static String pair(Api alice, int index) throws Exception {
		Api user = alice.at(cluster.gatewayUrl(index % 2));
		Api stopper = alice.at(cluster.gatewayUrl((index + 1) % 2));
		String id = "fz-" + index + "-" + UUID.randomUUID().toString().substring(0, 8);
		String runId = "r-" + UUID.randomUUID();
		int offset = ThreadLocalRandom.current().nextInt(-200, 201);
		ChatStream stream = null;
		if (offset >= 0) {
			stream = user.chatStream(id, LONG_RUN, Map.of("run_id", runId));
			TimeUnit.MILLISECONDS.sleep(offset);
		}
		Response stop = stopper.stop(id, Map.of("run_id", runId));
		if (offset < 0) {
			TimeUnit.MILLISECONDS.sleep(-offset);
			stream = user.chatStream(id, LONG_RUN, Map.of("run_id", runId));
		}
		List<String> events = stream.drain(BOUND);
		assertThat(stop.status()).as("%s (offset %d ms): %s", id, offset, stop.body()).isIn(200, 202);
		assertThat(events).as(id).anyMatch(event -> event.contains("\"finish_reason\":\"cancelled\""));
		Response history = user.history(id);
		if (history.status() == 404) {
			assertThat(streamed(events)).as(id).isEmpty();
			return "never-started (stop " + stop.status() + ")";
		}
		JsonNode messages = await().atMost(BOUND)
			.until(() -> user.history(id).json().get("messages"), node -> node.size() >= 2);
		assertThat(messages.get(1).get("status").asString()).as(id).isEqualTo("stopped");
		assertThat(streamed(events)).as("%s: streamed text equals the recorded text", id)
			.isEqualTo(messages.get(1).get("content").asString());
		return "stopped (stop " + stop.status() + ")";
	}

	/** Reads until the first content arrives; returns the events read. */
	private static List<String> awaitContent(ChatStream stream) throws InterruptedException {
		List<String> read = new ArrayList<>();
		long deadline = System.nanoTime() + BOUND.toNanos();
		while (System.nanoTime() < deadline) {
			String event = stream.next(BOUND);
			if (event != null) {
				read.add(event);
				if (!streamed(read).isEmpty()) {
					return read;
				}
			}
		}
		throw new AssertionError("no content within " + BOUND);
	}

	private static List<String> concat(List<String> first, List<String> then) {
		List<String> all = new ArrayList<>(first);
		all.addAll(then);
		return all;
	}

	static String streamed(List<String> events) {
		StringBuilder text = new StringBuilder();
		for (String event : events) {
			if (event.startsWith("{")) {
				JsonNode delta = Api.JSON.readTree(event).get("choices").get(0).get("delta");
				if (delta != null && delta.has("content")) {
					text.append(delta.get("content").asString());
				}
			}
		}
		return text.toString();
	}

}
