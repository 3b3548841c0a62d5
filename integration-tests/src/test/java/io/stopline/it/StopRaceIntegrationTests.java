package io.stopline.it;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Response;
import io.stopline.protocol.Json;
import io.stopline.protocol.RunEvent;
import io.stopline.protocol.StopReason;
import io.stopline.protocol.StopRun;
import io.stopline.core.events.GatewayInboxes;
import io.stopline.core.stop.StopRequests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Races: stops right after send, duplicated and concurrent stops, stop-all against new
 * chats, late stops of an older run. Two gateways and two workers on a Redis of their
 * own, checked for leftovers after every scenario.
 */
class StopRaceIntegrationTests {

	private static final int LONG_RUN = 5000;

	private static final Duration BOUND = Duration.ofSeconds(20);

	// races, not limits, are under test here (AbuseLimitsIntegrationTests covers the
	// limits)
	@RegisterExtension
	static final Cluster cluster = Cluster.onOwnRedis(2, 2, Map.of("stopline.worker.max-concurrent-runs", "64"),
			Map.of("stopline.gateway.max-active-runs-per-user", "10000", "stopline.gateway.stop-rate-limit.permits",
					"1000000"));

	private static RedisInspector inspector;

	@BeforeAll
	static void inspect() {
		inspector = new RedisInspector(cluster.testRedis());
	}

	@AfterAll
	static void closeInspector() {
		if (inspector != null) {
			inspector.close();
		}
	}

	@AfterEach
	void nothingLeft() {
		await().atMost(BOUND).until(() -> cluster.tasks(0).size() + cluster.tasks(1).size() == 0);
		inspector.assertNoLeaks();
	}

	/**
	 * Thousands of send/stop pairs with the stop 0 to 200 ms after the send. Every stop's
	 * answer agrees with the history, nothing is left running, and the client never saw a
	 * token the history does not hold.
	 */
	@Test
	void stopsRightAfterSendAreConsistent() throws Exception {
		int pairs = Integer.parseInt(System.getProperty("stopline.fuzz.pairs", "1000").isBlank() ? "1000"
				: System.getProperty("stopline.fuzz.pairs"));
		Invariants invariants = Invariants.watch("race: " + pairs + " send/stop pairs",
				cluster.api(0, "fuzz-" + UUID.randomUUID()), inspector.template());
		Api alice = invariants.api();
		List<Pair> results = Collections.synchronizedList(new ArrayList<>());
		Semaphore inFlight = new Semaphore(16);
		long started = System.nanoTime();
		try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
			for (int i = 0; i < pairs; i++) {
				inFlight.acquire();
				int index = i;
				pool.execute(() -> {
					try {
						results.add(pair(alice.at(cluster.gatewayUrl(index % 2)), index));
					}
					catch (Throwable ex) {
						results.add(Pair.failed(ex));
					}
					finally {
						inFlight.release();
					}
				});
			}
		}
		long elapsed = (System.nanoTime() - started) / 1_000_000;

		assertThat(results).hasSize(pairs);
		assertThat(results).allSatisfy(Pair::assertConsistent);
		Map<String, Long> outcomes = new java.util.TreeMap<>();
		results.forEach(pair -> outcomes.merge(pair.kind(), 1L, Long::sum));
		List<Long> stopMillis = results.stream().map(Pair::stopMillis).sorted().toList();
		System.out.printf("[race] %d send/stop pairs in %d ms: %s; stop answer ms p50=%d p99=%d max=%d%n", pairs,
				elapsed, outcomes, stopMillis.get(pairs / 2), stopMillis.get(pairs * 99 / 100),
				stopMillis.get(pairs - 1));
		assertThat(outcomes.keySet()).as("the fuzz reached every phase of a run")
			.contains("stopped-before-first-token", "stopped-mid-run", "completed-before-stop");
		invariants.assertHold(Duration.ofSeconds(120));
	}

	private static Pair pair(Api user, int index) throws Exception {
		String id = "fuzz-" + index + "-" + UUID.randomUUID().toString().substring(0, 8);
		int tokens = 1 + ThreadLocalRandom.current().nextInt(10);
		ChatStream stream = user.chatStream(id, tokens);
		long[] stopMillis = new long[1];
		// the stop is sent 0 to 200 ms after the send
		Response stop = CompletableFuture.supplyAsync(() -> {
			long stopStarted = System.nanoTime();
			Response answer = user.stop(id);
			stopMillis[0] = (System.nanoTime() - stopStarted) / 1_000_000;
			return answer;
		}, CompletableFuture.delayedExecutor(ThreadLocalRandom.current().nextInt(201), TimeUnit.MILLISECONDS,
				Executors.newVirtualThreadPerTaskExecutor()))
			.join();
		List<String> events = stream.drain(BOUND);
		JsonNode history = await().atMost(BOUND)
			.ignoreExceptions()
			.until(() -> user.history(id).json(), node -> node.get("messages").size() >= 2 && (stop.status() != 202
					|| "stopped".equals(node.get("messages").get(1).get("status").asString())));
		return new Pair(id, stop, stopMillis[0], events, history.get("messages"), null);
	}

	record Pair(String id, Response stop, long stopMillis, List<String> events, JsonNode messages, Throwable error) {

		static Pair failed(Throwable error) {
			return new Pair("?", null, -1, List.of(), null, error);
		}

		String kind() {
			JsonNode answer = messages.get(1);
			if (!"stopped".equals(answer.get("status").asString())) {
				return "completed-before-stop";
			}
			return answer.get("content").asString().isEmpty() ? "stopped-before-first-token" : "stopped-mid-run";
		}

		void assertConsistent() {
			assertThat(error).as("pair failed").isNull();
			JsonNode answer = messages.get(1);
			String status = answer.get("status").asString();
			switch (stop.status()) {
				case 200 -> {
					assertThat(stop.json().get("message").asString()).as(id)
						.isEqualTo("Successfully stopped conversation " + id);
					assertThat(status).as("%s answered 200", id).isEqualTo("stopped");
				}
				case 202 -> assertThat(status).as("%s answered 202", id).isEqualTo("stopped");
				case 404 -> assertThat(status).as("%s answered 404", id).isEqualTo("complete");
				default -> throw new AssertionError(id + " answered " + stop.status() + ": " + stop.body());
			}
			String finish = "stopped".equals(status) ? "\"finish_reason\":\"cancelled\"" : "\"finish_reason\":\"stop\"";
			assertThat(events).as(id).anyMatch(event -> event.contains(finish)).endsWith("[DONE]");
			assertThat(streamed(events)).as("%s: streamed text equals the recorded text", id)
				.isEqualTo(answer.get("content").asString());
		}

		private static String streamed(List<String> events) {
			StringBuilder text = new StringBuilder();
			for (String event : events) {
				if (event.startsWith("{")) {
					JsonNode delta = Api.JSON.readTree(event).get("choices").get(0).get("delta");
					if (delta.has("content")) {
						text.append(delta.get("content").asString());
					}
				}
			}
			return text.toString();
		}
	}

	@Test
	void aHundredConcurrentStopsThroughTwoGatewaysCancelOneRunOnce() throws Exception {
		Invariants invariants = Invariants.watch("race: 100 concurrent stops of one run",
				cluster.api(0, "alice-" + UUID.randomUUID()), inspector.template());
		Api alice = invariants.api();
		String id = "conv-" + UUID.randomUUID();
		ChatStream stream = alice.chatStream(id, LONG_RUN);
		await().atMost(BOUND).until(() -> cluster.workerOf(alice.userId(), id) >= 0);

		CountDownLatch go = new CountDownLatch(1);
		List<Future<Response>> answers = new ArrayList<>();
		try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
			for (int i = 0; i < 100; i++) {
				Api via = alice.at(cluster.gatewayUrl(i % 2));
				answers.add(pool.submit(() -> {
					go.await();
					return via.stop(id);
				}));
			}
			go.countDown();
		}

		Map<Integer, Integer> statuses = new java.util.TreeMap<>();
		for (Future<Response> answer : answers) {
			statuses.merge(answer.get().status(), 1, Integer::sum);
		}
		System.out.printf("[race] 100 concurrent stops of one run: %s%n", statuses);
		assertThat(statuses.keySet()).isSubsetOf(200, 202);
		JsonNode messages = alice.history(id).json().get("messages");
		assertThat(messages).hasSize(3);
		assertThat(messages.get(1).get("status").asString()).isEqualTo("stopped");
		assertThat(stream.drain(BOUND)).anyMatch(event -> event.contains("\"finish_reason\":\"cancelled\""));
		invariants.assertHold(BOUND);
	}

	@Test
	void rapidStartStopCyclesOnOneConversation() throws Exception {
		Invariants invariants = Invariants.watch("race: 30 start/stop cycles on one conversation",
				cluster.api(0, "alice-" + UUID.randomUUID()), inspector.template());
		Api alice = invariants.api();
		String id = "cycle-" + UUID.randomUUID();
		int cycles = 30;
		for (int i = 0; i < cycles; i++) {
			ChatStream stream = alice.chatStream(id, LONG_RUN);
			Api via = alice.at(cluster.gatewayUrl(i % 2));
			// the stop may overtake the chat request: repeat until it hits the run
			Response stop = await().atMost(BOUND).until(() -> via.stop(id), answer -> answer.status() != 404);
			assertThat(stop.status()).as("cycle %d", i).isEqualTo(200);
			assertThat(stream.next(BOUND)).isNotNull();
			assertThat(stream.drain(BOUND)).as("cycle %d", i)
				.anyMatch(e -> e.contains("\"finish_reason\":\"cancelled\""));
		}
		JsonNode messages = alice.history(id).json().get("messages");
		assertThat(messages).hasSize(3 * cycles);
		for (int i = 0; i < cycles; i++) {
			assertThat(messages.get(3 * i + 1).get("status").asString()).as("cycle %d", i).isEqualTo("stopped");
		}
		invariants.assertHold(BOUND);
	}

	@Test
	void stopAllRacingNewChatsLeavesNothingRunning() throws Exception {
		Invariants invariants = Invariants.watch("race: stop-all against 40 new chats",
				cluster.api(0, "alice-" + UUID.randomUUID()), inspector.template());
		Api alice = invariants.api();
		List<String> ids = Collections.synchronizedList(new ArrayList<>());
		List<ChatStream> streams = Collections.synchronizedList(new ArrayList<>());
		List<Integer> statuses = Collections.synchronizedList(new ArrayList<>());
		try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
			for (int starter = 0; starter < 4; starter++) {
				Api via = alice.at(cluster.gatewayUrl(starter % 2));
				pool.execute(() -> {
					for (int i = 0; i < 10; i++) {
						String id = "race-" + UUID.randomUUID();
						ids.add(id);
						streams.add(via.chatStream(id, LONG_RUN));
					}
				});
			}
			pool.execute(() -> {
				for (int i = 0; i < 10; i++) {
					statuses.add(alice.at(cluster.gatewayUrl(i % 2)).stopAll().status());
				}
			});
		}
		await().atMost(BOUND).until(() -> {
			statuses.add(alice.stopAll().status());
			return alice.active().json().get("active_conversations").isEmpty()
					&& streams.stream().allMatch(stream -> stream.closed);
		});

		assertThat(statuses).allMatch(status -> status == 200);
		for (String id : ids) {
			JsonNode messages = alice.history(id).json().get("messages");
			assertThat(messages.get(1).get("status").asString()).as(id).isEqualTo("stopped");
		}
		invariants.assertHold(BOUND);
	}

	@Test
	void aLateStopOfAnOlderRunNeverCancelsTheNewerOne() throws Exception {
		Invariants invariants = Invariants.watch("race: a late stop of an older run",
				cluster.api(0, "alice-" + UUID.randomUUID()), inspector.template());
		Api alice = invariants.api();
		String id = "conv-" + UUID.randomUUID();
		ChatStream first = alice.chatStream(id, LONG_RUN);
		await().atMost(BOUND).until(() -> cluster.workerOf(alice.userId(), id) >= 0);
		String oldRun = alice.active().json().get("active_conversations").get(id).get("run_id").asString();
		assertThat(alice.stop(id).status()).isEqualTo(200);
		first.drain(BOUND);
		ChatStream second = alice.chatStream(id, LONG_RUN);
		await().atMost(BOUND).until(() -> cluster.workerOf(alice.userId(), id) >= 0);
		String worker = cluster.workerId(cluster.workerOf(alice.userId(), id));

		BlockingQueue<RunEvent> probe = new LinkedBlockingQueue<>();
		String probeGateway = "probe-" + UUID.randomUUID();
		new GatewayInboxes(inspector.clients().redisson()).inbox(probeGateway)
			.addListener(String.class, (channel, raw) -> probe.add(Json.read(raw, RunEvent.class)));
		StopRun late = new StopRun(UUID.randomUUID().toString(), oldRun, alice.userId(), id, StopReason.USER,
				probeGateway, Instant.now());
		new StopRequests(inspector.template()).signal(worker, late);
		new StopRequests(inspector.template()).signal(worker, late);

		RunEvent answer = probe.poll(10, TimeUnit.SECONDS);
		assertThat(answer).isInstanceOf(RunEvent.StopIgnored.class);
		assertThat(((RunEvent.StopIgnored) answer).cause()).isEqualTo("not_running");
		second.events.clear();
		assertThat(second.next(BOUND)).as("the newer run keeps streaming").contains("\"content\"");
		assertThat(alice.active().json().get("active_conversations").has(id)).isTrue();
		assertThat(alice.stop(id).status()).isEqualTo(200);
		second.drain(BOUND);
		invariants.assertHold(BOUND);
	}

}
