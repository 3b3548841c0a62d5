package io.stopline.it;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.stopline.it.Api.ChatStream;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.protocol.HistoryMessage;
import io.stopline.core.schema.Keys;
import io.stopline.core.run.RedisConversationRegistry;
import io.stopline.core.run.RunOutcome;
import io.stopline.core.run.RunRecord;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.redisson.api.RTopic;
import org.redisson.client.codec.StringCodec;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A live worker and Redis disagree about what the worker holds, as a claim whose reply
 * timed out, a lost write or a partition leaves them; the worker heals it within a bound:
 * its ownership check, its self-fence, and a new run's job meeting a stale local run.
 */
class OwnershipSelfCheckIntegrationTests {

	private static final int LONG_RUN = 5000;

	private static final Duration BOUND = Duration.ofSeconds(20);

	private static final Map<String, String> QUICK_CHECK = Map.of("stopline.worker.ownership-check-interval", "500ms");

	/** Long enough that a test plants a lost write before the outcome is re-checked. */
	private static final Map<String, String> CHECK_EVERY_2S = Map.of("stopline.worker.ownership-check-interval", "2s");

	private static TestRedis redis;

	private static RedisInspector inspector;

	private static ConversationRegistry registry;

	private Cluster cluster;

	@BeforeAll
	static void start() {
		redis = TestRedis.dedicatedProcess();
		inspector = new RedisInspector(redis);
		registry = new RedisConversationRegistry(inspector.template());
	}

	@AfterAll
	static void stop() {
		if (inspector != null) {
			inspector.close();
		}
		if (redis != null) {
			redis.close();
		}
	}

	@AfterEach
	void cleanUp() {
		if (cluster != null) {
			cluster.close();
		}
		inspector.assertNoLeaks();
	}

	@Test
	void aRunRecordedOnALiveWorkerThatDoesNotExecuteItIsFinishedAndTheConversationTakesNewMessages() throws Exception {
		cluster = Cluster.start(redis, 1, 1, QUICK_CHECK);
		Invariants invariants = watch("a record on a live worker that does not execute it");
		Api alice = invariants.api();
		// the claim ran in Redis, its reply never reached the worker: a record and an
		// index entry naming a live worker that has no such task
		RunRecord queued = RunRecord.queued("run-" + UUID.randomUUID(), alice.userId(), "c-lost", "assistant",
				"gw-gone", Instant.now());
		registry.reserve(queued, HistoryMessage.user("hello", queued.runId(), Instant.now()));
		registry.claim(queued, cluster.workerId(0), Instant.now()).orElseThrow();
		long planted = System.nanoTime();

		await().atMost(BOUND).until(() -> alice.active().json().get("active_conversations").isEmpty());
		long healedMillis = (System.nanoTime() - planted) / 1_000_000;
		System.out.printf("[ownership] a record naming a live worker without the task was finished after %d ms "
				+ "(check every 500 ms, two sightings)%n", healedMillis);

		assertThat(lastAssistant(alice, "c-lost").get("status").asString()).isEqualTo("interrupted");
		List<String> next = alice.chatStream("c-lost", 5).drain(BOUND);
		assertThat(next).as("a new message is accepted and answered")
			.anyMatch(e -> e.contains("\"finish_reason\":\"stop\""));
		invariants.assertHold(BOUND);
	}

	@Test
	void aLocalRunWhoseRecordNamesAnotherRunStopsGeneratingAndAnnouncesNothing() throws Exception {
		cluster = Cluster.start(redis, 1, 1, QUICK_CHECK);
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		alice.chatStream("c1", LONG_RUN);
		awaitRunning(alice, "c1");
		BlockingQueue<String> watched = new LinkedBlockingQueue<>();
		RTopic channel = inspector.clients()
			.redisson()
			.getTopic(Keys.conversationEvents(alice.userId(), "c1"), StringCodec.INSTANCE);
		int listener = channel.addListener(String.class, (name, event) -> watched.add(event));
		String recordJson = (String) inspector.template().opsForHash().get(Keys.runs(alice.userId()), "c1");
		String otherRun = "run-other-" + UUID.randomUUID();
		String runId = Api.JSON.readTree(recordJson).get("run").asString();
		inspector.template().opsForHash().put(Keys.runs(alice.userId()), "c1", recordJson.replace(runId, otherRun));
		long replaced = System.nanoTime();

		await().atMost(BOUND).until(() -> cluster.tasks(0).find(alice.userId(), "c1").isEmpty());
		System.out.printf("[ownership] a local run whose record names another run stopped after %d ms%n",
				(System.nanoTime() - replaced) / 1_000_000);
		assertThat(cluster.tasks(0).generating()).isZero();
		// its finish was fenced out: it announced nothing (no phantom message for
		// watchers)
		inspector.template().convertAndSend(Keys.conversationEvents(alice.userId(), "c1"), "marker");
		List<String> heard = new ArrayList<>();
		String event;
		while (!"marker".equals(event = watched.poll(5, TimeUnit.SECONDS))) {
			assertThat(event).as("the marker arrives").isNotNull();
			heard.add(event);
		}
		channel.removeListener(listener);
		assertThat(heard).noneMatch(e -> e.contains("\"run_stopped\"") || e.contains("\"message_added\""));
		// the stranger's record is what the test planted: remove it
		inspector.template().opsForHash().delete(Keys.runs(alice.userId()), "c1");
	}

	@Test
	void aLocalRunRedisForgotIsRegisteredAgainAndCanBeStopped() throws Exception {
		cluster = Cluster.start(redis, 1, 1, QUICK_CHECK);
		Invariants invariants = watch("a local run Redis forgot");
		Api alice = invariants.api();
		ChatStream stream = alice.chatStream("c1", LONG_RUN);
		awaitRunning(alice, "c1");
		inspector.template().opsForHash().delete(Keys.runs(alice.userId()), "c1");
		inspector.template().delete(Keys.workerRuns(cluster.workerId(0)));
		long forgotten = System.nanoTime();

		awaitRunning(alice, "c1");
		System.out.printf("[ownership] a run Redis forgot was listed again after %d ms%n",
				(System.nanoTime() - forgotten) / 1_000_000);
		assertThat(alice.stop("c1").status()).isEqualTo(200);
		assertThat(stream.drain(BOUND)).anyMatch(e -> e.contains("\"finish_reason\":\"cancelled\""));
		invariants.assertHold(BOUND);
	}

	@Test
	void aJobForANewerRunReplacesAStaleLocalRunInsteadOfBeingDropped() throws Exception {
		// no ownership check during the test: the job itself must meet the stale run
		cluster = Cluster.start(redis, 1, 1, Map.of("stopline.worker.ownership-check-interval", "1h"));
		Invariants invariants = watch("a newer run's job meets a stale local run");
		Api alice = invariants.api();
		alice.chatStream("c1", LONG_RUN);
		awaitRunning(alice, "c1");
		// reaped while its worker was frozen: the record is gone, the local task runs on
		RunRecord record = registry.find(alice.userId(), "c1").orElseThrow();
		assertThat(registry.finish(record, RunOutcome.interrupted(Instant.now()))).isTrue();

		List<String> next = alice.chatStream("c1", 5).drain(BOUND);

		assertThat(next).as("the newer run is answered").anyMatch(e -> e.contains("\"finish_reason\":\"stop\""));
		assertThat(lastAssistant(alice, "c1").get("status").asString()).isEqualTo("complete");
		await().atMost(BOUND).until(() -> cluster.tasks(0).size() == 0);
		invariants.assertHold(BOUND);
	}

	@Test
	void aWorkerCutOffFromRedisPastItsTtlStopsItsRuns() throws Exception {
		URI target = URI.create(redis.url());
		try (CuttableTcpProxy proxy = new CuttableTcpProxy(target.getHost(), target.getPort())) {
			cluster = Cluster.start(redis, 1, 0, Map.of());
			cluster.addWorker("cut-" + UUID.randomUUID().toString().substring(0, 8),
					Map.of("spring.data.redis.url", "redis://127.0.0.1:" + proxy.port(),
							"stopline.worker.heartbeat-ttl", "3s", "stopline.worker.ownership-check-interval", "1h"));
			Invariants invariants = watch("a worker cut off from Redis past its TTL");
			Api alice = invariants.api();
			alice.chatStream("c1", LONG_RUN);
			alice.chatStream("c2", LONG_RUN);
			awaitRunning(alice, "c1");
			awaitRunning(alice, "c2");
			assertThat(cluster.tasks(0).generating()).isEqualTo(2);

			proxy.cut();
			long cut = System.nanoTime();
			await().atMost(BOUND).until(() -> cluster.tasks(0).generating() == 0);
			long fencedMillis = (System.nanoTime() - cut) / 1_000_000;
			System.out.printf("[self-fence] worker cut off from Redis (TTL 3 s): its runs stopped generating "
					+ "%d ms after the cut%n", fencedMillis);
			assertThat(fencedMillis).as("not before its heartbeat could have lapsed").isGreaterThan(1_500);
			assertThat(fencedMillis).as("within the TTL plus a check").isLessThan(6_000);

			proxy.restore();
			await().atMost(Duration.ofSeconds(60))
				.until(() -> alice.active().json().get("active_conversations").isEmpty()
						&& cluster.tasks(0).size() == 0);
			invariants.assertHold(BOUND);
		}
	}

	/**
	 * A failover loses the finish of a stopped run (asynchronous replication: the old
	 * master acknowledged it, the promoted replica never had it): the record is back,
	 * naming the worker, and the stopped answer is gone. The worker still remembers the
	 * outcome it wrote and writes it again, instead of finishing the run as interrupted.
	 */
	@Test
	void aStoppedAnswerWhoseFinishAFailoverLostIsWrittenAgain() throws Exception {
		cluster = Cluster.start(redis, 1, 1, CHECK_EVERY_2S);
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		ChatStream run = alice.chatStream("c1", LONG_RUN);
		awaitRunning(alice, "c1");
		String user = alice.userId();
		String recordJson = (String) inspector.template().opsForHash().get(Keys.runs(user), "c1");
		String runId = Api.JSON.readTree(recordJson).get("run").asString();
		String worker = cluster.workerId(0);
		String indexEntry = (String) inspector.template().opsForHash().get(Keys.workerRuns(worker), runId);
		assertThat(alice.stop("c1").status()).isEqualTo(200);
		run.drain(BOUND);
		JsonNode stopped = lastAssistant(alice, "c1");
		assertThat(stopped.get("status").asString()).isEqualTo("stopped");

		// what the promoted replica holds: the record, the index entry and the latest
		// run as they were before the finish; the answer and its notice gone
		inspector.template().opsForHash().put(Keys.runs(user), "c1", recordJson);
		inspector.template().opsForHash().put(Keys.workerRuns(worker), runId, indexEntry);
		inspector.template().opsForHash().put(Keys.lastRuns(user), "c1", runId);
		inspector.template().opsForList().rightPop(Keys.messages(user, "c1"), 2);
		inspector.template().delete(Keys.stopped(user, "c1"));
		long lost = System.nanoTime();

		await().atMost(BOUND).until(() -> alice.active().json().get("active_conversations").isEmpty());
		System.out.printf("[ownership] a stopped answer whose finish was lost was written again after %d ms "
				+ "(check every 2 s, two sightings)%n", (System.nanoTime() - lost) / 1_000_000);
		JsonNode rewritten = lastAssistant(alice, "c1");
		assertThat(rewritten.get("status").asString()).isEqualTo("stopped");
		assertThat(rewritten.get("content").asString()).isEqualTo(stopped.get("content").asString());
		assertThat(alice.chatStream("c1", 5).drain(BOUND)).anyMatch(e -> e.contains("\"finish_reason\":\"stop\""));
	}

	/**
	 * A failover loses a run's whole life (its reservation, claim and finish all went to
	 * the old master just before the switch): the promoted replica has the previous turn
	 * as the conversation's latest and nothing of this one, though the user was told it
	 * stopped. The worker re-checks the outcomes it wrote one interval later and writes
	 * this one again through the fenced restore, with the user's message.
	 */
	@Test
	void aRunWhoseWholeLifeAFailoverLostIsWrittenAgain() throws Exception {
		// the loss is planted after the stop's drain and two calls: the outcome is
		// re-checked only once, so its interval must outlast those on a loaded machine
		cluster = Cluster.start(redis, 1, 1, Map.of("stopline.worker.ownership-check-interval", "5s"));
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		assertThat(alice.chatStream("c2", 5).drain(BOUND)).anyMatch(e -> e.contains("\"finish_reason\":\"stop\""));
		String user = alice.userId();
		Object previous = inspector.template().opsForHash().get(Keys.lastRuns(user), "c2");
		ChatStream run = alice.chatStream("c2", LONG_RUN);
		awaitRunning(alice, "c2");
		assertThat(alice.stop("c2").status()).isEqualTo(200);
		run.drain(BOUND);
		JsonNode stopped = lastAssistant(alice, "c2");
		String runId = stopped.get("run_id").asString();

		// the promoted replica: the previous turn is the latest, the user's message, the
		// answer and its notice are gone
		inspector.template().opsForList().rightPop(Keys.messages(user, "c2"), 3);
		inspector.template().opsForHash().put(Keys.lastRuns(user), "c2", String.valueOf(previous));
		inspector.template().delete(Keys.stopped(user, "c2"));
		assertThat(alice.history("c2").body()).doesNotContain(runId);
		long lost = System.nanoTime();

		await().atMost(BOUND).until(() -> alice.history("c2").body().contains(runId));
		System.out.printf("[ownership] a run whose whole life was lost was written again after %d ms "
				+ "(outcomes re-checked 5 s after they are written)%n", (System.nanoTime() - lost) / 1_000_000);
		JsonNode messages = alice.history("c2").json().get("messages");
		JsonNode asked = messages.get(messages.size() - 3);
		assertThat(asked.get("role").asString()).isEqualTo("user");
		assertThat(asked.get("run_id").asString()).isEqualTo(runId);
		JsonNode rewritten = lastAssistant(alice, "c2");
		assertThat(rewritten.get("run_id").asString()).isEqualTo(runId);
		assertThat(rewritten.get("status").asString()).isEqualTo("stopped");
		assertThat(rewritten.get("content").asString()).isEqualTo(stopped.get("content").asString());
		assertThat(alice.active().json().get("active_conversations").isEmpty()).isTrue();
		assertThat(alice.chatStream("c2", 5).drain(BOUND)).anyMatch(e -> e.contains("\"finish_reason\":\"stop\""));
	}

	private Invariants watch(String scenario) {
		return Invariants.watch(scenario, cluster.api(0, "alice-" + UUID.randomUUID()), inspector.template());
	}

	private static void awaitRunning(Api user, String id) {
		await().atMost(BOUND).ignoreExceptions().untilAsserted(() -> {
			JsonNode active = user.active().json().get("active_conversations");
			assertThat(active.has(id) && active.get(id).get("state").asString().equals("running")).isTrue();
		});
	}

	private static JsonNode lastAssistant(Api user, String id) {
		JsonNode messages = user.history(id).json().get("messages");
		for (int i = messages.size() - 1; i >= 0; i--) {
			if (messages.get(i).get("role").asString().equals("assistant")) {
				return messages.get(i);
			}
		}
		throw new AssertionError("no assistant message in " + id);
	}

}
