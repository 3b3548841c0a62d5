package io.stopline.it;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Response;
import io.stopline.core.schema.Keys;
import io.stopline.core.ops.StopAudit;
import io.stopline.core.liveness.WorkerLiveness;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Stop guarantees under real faults: workers are operating-system processes started from
 * the built jar ({@code kill -9}, {@code kill -STOP}/{@code -CONT}, SIGTERM), subscribed
 * connections are dropped with {@code CLIENT KILL}, and Redis itself is killed and
 * restarted empty. Each scenario prints what it measured.
 */
class WorkerFaultIntegrationTests {

	private static final int LONG_RUN = 5000;

	private static final Duration BOUND = Duration.ofSeconds(20);

	private static TestRedis redis;

	private static Cluster gateways;

	private static RedisInspector inspector;

	private final List<WorkerProcess> workers = new ArrayList<>();

	@BeforeAll
	static void start() {
		redis = TestRedis.dedicatedProcess();
		gateways = Cluster.start(redis, 2, 0, Map.of());
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

	@AfterEach
	void cleanUp() {
		workers.forEach(WorkerProcess::close);
		inspector.assertNoLeaks();
	}

	@Test
	void aKilledWorkersRunsLeaveTheActiveListingWithinFifteenSeconds() throws Exception {
		WorkerProcess worker = worker(Map.of());
		Invariants invariants = watch("worker kill -9");
		Api alice = invariants.api();
		Map<String, ChatStream> runs = startRuns(alice, 3);

		long killedAt = System.nanoTime();
		worker.kill();
		String first = runs.keySet().iterator().next();
		long stopStarted = System.nanoTime();
		Response stop = alice.at(gateways.gatewayUrl(1)).stop(first);
		long stopMillis = (System.nanoTime() - stopStarted) / 1_000_000;

		await().atMost(Duration.ofSeconds(15)).until(() -> alice.active().json().get("active_conversations").isEmpty());
		long goneMillis = (System.nanoTime() - killedAt) / 1_000_000;
		System.out.printf("[fault] kill -9: runs gone from the active listing after %d ms; a stop sent right "
				+ "after the kill answered %d in %d ms%n", goneMillis, stop.status(), stopMillis);

		assertThat(stop.status()).isIn(202, 404);
		assertThat(stopMillis).isLessThan(5_000);
		for (Map.Entry<String, ChatStream> run : runs.entrySet()) {
			JsonNode messages = alice.history(run.getKey()).json().get("messages");
			assertThat(messages.get(messages.size() - 1).get("status").asString()).isEqualTo("interrupted");
			assertThat(run.getValue().drain(BOUND)).as("the client is told").anyMatch(e -> e.contains("\"error\""));
		}
		assertThat(new WorkerLiveness(inspector.template()).knownWorkers()).doesNotContain(worker.id());
		// audit entries are written after the fact
		await().atMost(BOUND)
			.untilAsserted(() -> assertThat(new StopAudit(inspector.template()).read(alice.userId(), null, 100))
				.filteredOn(entry -> entry.by().equals("reaper"))
				.extracting(StopAudit.Entry::outcome)
				.containsExactly("interrupted", "interrupted", "interrupted"));
		// healed: a worker to take the conversations' next messages
		worker(Map.of());
		invariants.assertHold(BOUND);
	}

	@Test
	void aStopMissedByAPausedWorkerWithADroppedSubscriptionIsCarriedOutWhenItResumes() throws Exception {
		WorkerProcess worker = worker(Map.of());
		Invariants invariants = watch("worker SIGSTOP + CLIENT KILL");
		Api alice = invariants.api();
		Map<String, ChatStream> runs = startRuns(alice, 1);
		String id = runs.keySet().iterator().next();

		worker.pause();
		try {
			long killed = inspector.killSubscribers();
			Response stop = alice.stop(id);
			assertThat(killed).isPositive();
			assertThat(stop.status()).as("nobody could confirm").isEqualTo(202);
			assertThat(stop.json().get("message").asString()).isEqualTo("Stop requested for conversation " + id);
		}
		finally {
			worker.resume();
		}
		long resumedAt = System.nanoTime();
		await().atMost(Duration.ofSeconds(10)).until(() -> lastAssistantStatus(alice, id).equals("stopped"));
		System.out.printf("[fault] SIGSTOP + CLIENT KILL: the recorded stop was carried out %d ms after SIGCONT%n",
				(System.nanoTime() - resumedAt) / 1_000_000);
		assertThat(runs.get(id).drain(BOUND)).anyMatch(e -> e.contains("\"finish_reason\":\"cancelled\""));
		invariants.assertHold(BOUND);
	}

	@Test
	void stopsKeepLandingWhileSubscriptionsAreKilledOverAndOver() throws Exception {
		worker(Map.of());
		Invariants invariants = watch("CLIENT KILL of subscriptions every 50 ms");
		Api alice = invariants.api();
		Map<String, ChatStream> runs = startRuns(alice, 8);
		List<Long> latencies = new ArrayList<>();
		Map<Integer, Integer> answers = new LinkedHashMap<>();

		AtomicLong kills = new AtomicLong();
		AtomicReference<Throwable> killerFailure = new AtomicReference<>();
		ScheduledExecutorService killer = Executors.newSingleThreadScheduledExecutor();
		killer.scheduleAtFixedRate(() -> {
			try {
				kills.addAndGet(inspector.killSubscribers());
			}
			catch (RuntimeException ex) {
				killerFailure.set(ex);
			}
		}, 0, 50, TimeUnit.MILLISECONDS);
		try {
			for (String id : runs.keySet()) {
				Instant requested = Instant.now();
				Response stop = alice.stop(id);
				answers.merge(stop.status(), 1, Integer::sum);
				await().atMost(Duration.ofSeconds(10)).until(() -> lastAssistantStatus(alice, id).equals("stopped"));
				JsonNode stopped = alice.history(id).json().get("messages").get(1);
				latencies
					.add(Duration.between(requested, Instant.parse(stopped.get("created_at").asString())).toMillis());
			}
		}
		finally {
			killer.shutdownNow();
			assertThat(killer.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
		}
		System.out.printf("[fault] CLIENT KILL every 50 ms (%d connections killed): %d stops, answers %s, "
				+ "stop-to-recorded ms %s%n", kills.get(), runs.size(), answers, latencies);
		assertThat(killerFailure.get()).isNull();
		assertThat(kills.get()).isPositive();
		assertThat(answers.keySet()).isSubsetOf(200, 202);
		assertThat(latencies).allMatch(ms -> ms < 5_000);
		invariants.assertHold(BOUND);
	}

	@Test
	void sigtermStopsRunningRunsWithReasonShutdownAndLeavesNothing() throws Exception {
		WorkerProcess worker = worker(Map.of("stopline.worker.shutdown-grace", "1s"));
		Invariants invariants = watch("worker SIGTERM, grace 1 s");
		Api alice = invariants.api();
		Map<String, ChatStream> runs = startRuns(alice, 2);

		long signalled = System.nanoTime();
		worker.terminate();
		int exit = worker.awaitExit(BOUND);
		System.out.printf("[fault] SIGTERM: worker exited (%d) after %d ms with shutdown-grace 1s%n", exit,
				(System.nanoTime() - signalled) / 1_000_000);

		for (Map.Entry<String, ChatStream> run : runs.entrySet()) {
			JsonNode messages = alice.history(run.getKey()).json().get("messages");
			JsonNode answer = messages.get(1);
			assertThat(answer.get("status").asString()).isEqualTo("stopped");
			assertThat(answer.get("stop_reason").asString()).isEqualTo("shutdown");
			assertThat(run.getValue().drain(BOUND)).anyMatch(e -> e.contains("\"finish_reason\":\"cancelled\""));
		}
		assertThat(alice.active().json().get("active_conversations").isEmpty()).isTrue();
		assertThat(new WorkerLiveness(inspector.template()).knownWorkers()).doesNotContain(worker.id());
		await().atMost(BOUND)
			.untilAsserted(() -> assertThat(new StopAudit(inspector.template()).read(alice.userId(), null, 100))
				.allSatisfy(entry -> assertThat(entry.by()).isEqualTo("system"))
				.extracting(StopAudit.Entry::reason)
				.containsExactly("shutdown", "shutdown"));
		worker(Map.of());
		invariants.assertHold(BOUND);
	}

	@Test
	void aGatewayShuttingDownEndsItsOpenStreamsCleanlyAndTheRunGoesOn() throws Exception {
		worker(Map.of());
		ConfigurableApplicationContext leaving = gateways.addGateway();
		String url = "http://127.0.0.1:" + ((WebServerApplicationContext) leaving).getWebServer().getPort();
		// the checker reads through the gateway that stays
		Invariants invariants = Invariants.watch("gateway shutdown",
				Api.forUser(url, "alice-" + UUID.randomUUID()).at(gateways.gatewayUrl(0)), inspector.template());
		Api alice = invariants.api().at(url);
		Map<String, ChatStream> runs = startRuns(alice, 1);
		String id = runs.keySet().iterator().next();

		long closing = System.nanoTime();
		leaving.close();
		List<String> events = runs.get(id).drain(BOUND);
		System.out.printf("[fault] gateway shutdown: its open stream ended %d ms after the shutdown began%n",
				(System.nanoTime() - closing) / 1_000_000);

		assertThat(events.get(events.size() - 2)).contains("shutting down");
		Api viaOther = alice.at(gateways.gatewayUrl(0));
		assertThat(viaOther.active().json().get("active_conversations").has(id)).as("the run goes on").isTrue();
		assertThat(viaOther.stop(id).status()).isEqualTo(200);
		invariants.assertHold(BOUND);
	}

	@Test
	void afterRedisRestartsEmptyRunsAreRegisteredAgainAndCanBeStopped() throws Exception {
		worker(Map.of());
		Invariants invariants = watch("Redis killed and restarted empty");
		Api alice = invariants.api();
		Map<String, ChatStream> runs = startRuns(alice, 2);
		String id = runs.keySet().iterator().next();

		long down = System.nanoTime();
		redis.kill();
		redis = redis.restart();
		await().atMost(BOUND)
			.ignoreExceptions()
			.until(() -> alice.active().json().get("active_conversations").size() == runs.size());
		long listed = (System.nanoTime() - down) / 1_000_000;
		Response stop = alice.at(gateways.gatewayUrl(1)).stop(id);
		long stopped = (System.nanoTime() - down) / 1_000_000;
		System.out.printf("[fault] Redis restarted empty: runs listed again after %d ms, stop answered %d at %d ms%n",
				listed, stop.status(), stopped);

		assertThat(stop.status()).isEqualTo(200);
		assertThat(runs.get(id).drain(BOUND)).anyMatch(e -> e.contains("\"finish_reason\":\"cancelled\""));
		assertThat(alice.stopAll().status()).isEqualTo(200);
		await().atMost(BOUND).until(() -> alice.active().json().get("active_conversations").isEmpty());
		invariants.assertHold(BOUND);
	}

	private static Invariants watch(String scenario) {
		return Invariants.watch(scenario, gateways.api(0, "alice-" + UUID.randomUUID()), inspector.template());
	}

	private WorkerProcess worker(Map<String, String> properties) {
		WorkerProcess worker = WorkerProcess.start(redis.url(), "proc-" + UUID.randomUUID().toString().substring(0, 8),
				properties);
		workers.add(worker);
		return worker;
	}

	private static Map<String, ChatStream> startRuns(Api user, int count) {
		Map<String, ChatStream> runs = new LinkedHashMap<>();
		for (int i = 0; i < count; i++) {
			String id = "conv-" + UUID.randomUUID();
			runs.put(id, user.chatStream(id, LONG_RUN));
		}
		await().atMost(BOUND).untilAsserted(() -> {
			JsonNode active = user.active().json().get("active_conversations");
			runs.keySet()
				.forEach(id -> assertThat(active.has(id) && active.get(id).get("state").asString().equals("running"))
					.as("%s running", id)
					.isTrue());
			// and taken off the queue: a worker killed between its claim and its
			// acknowledgement leaves the job for the next worker's orphan recovery, a
			// case of its own (JobConsumer), not the one these tests set up
			Long queued = inspector.template().opsForStream().size(Keys.JOBS);
			assertThat(queued == null ? 0 : queued).as("queued jobs").isZero();
		});
		return runs;
	}

	private static String lastAssistantStatus(Api user, String id) {
		JsonNode messages = user.history(id).json().get("messages");
		for (int i = messages.size() - 1; i >= 0; i--) {
			if (messages.get(i).get("role").asString().equals("assistant")) {
				return messages.get(i).get("status").asString();
			}
		}
		return "none";
	}

}
