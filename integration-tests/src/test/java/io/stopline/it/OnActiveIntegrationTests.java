package io.stopline.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Response;
import io.stopline.starter.task.RunningTask;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A message sent while its conversation has an active run (issue 18, item 1:
 * {@code on_active}), end to end through two gateways and two workers: two tabs
 * interrupting at once (exactly one new run completes: the other is answered 409 naming
 * it when the first replacement still waited, or, when that one had already started, it
 * replaces it in turn), a rollback racing the run's natural end (the history holds either
 * the rolled back shape or the ended-first one, never a mix), enqueued messages in order
 * up to the bound (429 beyond), stopped while they wait by run id or with the
 * conversation, and an interrupt storm under the invariant checker. Throughout, a monitor
 * samples both workers: two runs of one conversation never generate at the same time.
 */
class OnActiveIntegrationTests {

	private static final int LONG_RUN = 5000;

	private static final Duration BOUND = Duration.ofSeconds(20);

	private static final int MAX_QUEUED = 2;

	@RegisterExtension
	static final Cluster cluster = Cluster.onOwnRedis(2, 2, Map.of("stopline.worker.max-concurrent-runs", "64"),
			Map.of("stopline.gateway.max-active-runs-per-user", "10000", "stopline.gateway.stop-rate-limit.permits",
					"1000000", "stopline.gateway.max-queued-per-conversation", Integer.toString(MAX_QUEUED)));

	private static RedisInspector inspector;

	private static GenerationMonitor monitor;

	@BeforeAll
	static void start() {
		inspector = new RedisInspector(cluster.testRedis());
		monitor = new GenerationMonitor(cluster);
	}

	@AfterAll
	static void stop() {
		if (monitor != null) {
			monitor.close();
			System.out.println(
					"[on_active] generation samples=" + monitor.samples.get() + " overlaps=" + monitor.overlaps.size());
		}
		if (inspector != null) {
			inspector.close();
		}
	}

	@AfterEach
	void nothingLeftAndNeverTwoGenerating() {
		await().atMost(BOUND).until(() -> cluster.tasks(0).size() + cluster.tasks(1).size() == 0);
		inspector.assertNoLeaks();
		assertThat(inspector.keys("stopline:*:waiting")).as("waiting lists").isEmpty();
		assertThat(monitor.overlaps).as("two runs of one conversation generating at once").isEmpty();
	}

	@Test
	void interruptFromTwoTabsAtOnceStartsExactlyOneNewRun() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		int rounds = 20;
		int refused = 0;
		int replacedInTurn = 0;
		for (int round = 0; round < rounds; round++) {
			String id = "tabs-" + round + "-" + UUID.randomUUID();
			String active = "a-" + UUID.randomUUID();
			ChatStream first = alice.chatStream(id, LONG_RUN, Map.of("run_id", active));
			awaitContent(first);

			String tab1 = "t1-" + UUID.randomUUID();
			String tab2 = "t2-" + UUID.randomUUID();
			ChatStream one = alice.chatStream(id, 3, Map.of("run_id", tab1, "on_active", "interrupt"));
			ChatStream two = alice.at(cluster.gatewayUrl(1))
				.chatStream(id, 3, Map.of("run_id", tab2, "on_active", "interrupt"));
			await().atMost(BOUND).until(() -> one.status != 0 && two.status != 0);

			assertThat(first.drain(BOUND)).anyMatch(event -> event.contains("\"finish_reason\":\"cancelled\""));
			List<String> common = List.of("user " + active, "assistant " + active + " stopped superseded",
					"system " + active + " complete superseded");
			if (one.status == 409 || two.status == 409) {
				// both arrived while the first replacement still waited: it wins, the
				// other is refused and told which run replaces the active one
				refused++;
				assertThat(List.of(one.status, two.status)).as("round %d", round).containsExactlyInAnyOrder(200, 409);
				ChatStream winner = one.status == 200 ? one : two;
				String winnerId = winner == one ? tab1 : tab2;
				JsonNode problem = Api.JSON.readTree((winner == one ? two : one).next(BOUND));
				assertThat(problem.get("status").asInt()).isEqualTo(409);
				assertThat(problem.get("replacing_run_id").asString()).isEqualTo(winnerId);
				assertThat(winner.drain(BOUND)).anyMatch(event -> event.contains("\"finish_reason\":\"stop\""));
				assertThat(shape(alice.history(id).json().get("messages"))).as("round %d", round)
					.containsExactlyElementsOf(
							concat(common, List.of("user " + winnerId, "assistant " + winnerId + " complete")));
			}
			else {
				// the first replacement had already started when the other arrived: the
				// later one replaces it in turn; still exactly one new run completes
				replacedInTurn++;
				assertThat(List.of(one.status, two.status)).as("round %d", round).containsExactly(200, 200);
				List<String> oneEvents = one.drain(BOUND);
				List<String> twoEvents = two.drain(BOUND);
				boolean oneWon = oneEvents.stream().anyMatch(event -> event.contains("\"finish_reason\":\"stop\""));
				List<String> loserEvents = oneWon ? twoEvents : oneEvents;
				List<String> winnerEvents = oneWon ? oneEvents : twoEvents;
				assertThat(winnerEvents).anyMatch(event -> event.contains("\"finish_reason\":\"stop\""));
				assertThat(loserEvents).anyMatch(event -> event.contains("\"finish_reason\":\"cancelled\""));
				String winnerId = oneWon ? tab1 : tab2;
				String loserId = oneWon ? tab2 : tab1;
				assertThat(shape(alice.history(id).json().get("messages"))).as("round %d", round)
					.containsExactlyElementsOf(concat(common,
							List.of("user " + loserId, "assistant " + loserId + " stopped superseded",
									"system " + loserId + " complete superseded", "user " + winnerId,
									"assistant " + winnerId + " complete")));
			}
			assertThat(alice.history(id).json().get("messages").get(2).get("content").asString())
				.isEqualTo("Conversation stopped: a new message replaced this answer.");
		}
		System.out.println("[on_active] two tabs interrupting at once: rounds=" + rounds + " refused_409=" + refused
				+ " replaced_in_turn=" + replacedInTurn);
	}

	private static List<String> concat(List<String> first, List<String> then) {
		List<String> all = new ArrayList<>(first);
		all.addAll(then);
		return all;
	}

	@Test
	void rollbackRacingTheNaturalEndLeavesOneOfTwoShapes() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		int rounds = 24;
		int rolledBack = 0;
		int endedFirst = 0;
		for (int round = 0; round < rounds; round++) {
			String id = "rollback-" + round + "-" + UUID.randomUUID();
			String replaced = "a-" + UUID.randomUUID();
			String replacement = "b-" + UUID.randomUUID();
			int tokens = 3 + ThreadLocalRandom.current().nextInt(10);
			ChatStream first = alice.chatStream(id, tokens, Map.of("run_id", replaced));
			await().atMost(BOUND).until(() -> first.status != 0);
			// the rollback lands 0 to 200 ms after the send's answer began: before,
			// during or after the
			// run's natural end (60 to 260 ms of tokens)
			LockSupport.parkNanos(Duration.ofMillis(ThreadLocalRandom.current().nextInt(200)).toNanos());
			ChatStream second = alice.at(cluster.gatewayUrl(1))
				.chatStream(id, 2, Map.of("run_id", replacement, "on_active", "rollback"));

			first.drain(BOUND);
			assertThat(second.drain(BOUND)).anyMatch(event -> event.contains("\"finish_reason\":\"stop\""));
			List<String> shape = shape(alice.history(id).json().get("messages"));
			if (shape.size() == 2) {
				rolledBack++;
				assertThat(shape).as("round %d rolled back", round)
					.containsExactly("user " + replacement, "assistant " + replacement + " complete");
			}
			else {
				endedFirst++;
				assertThat(shape).as("round %d: the run ended before the rollback arrived", round)
					.containsExactly("user " + replaced, "assistant " + replaced + " complete", "user " + replacement,
							"assistant " + replacement + " complete");
			}
		}
		System.out.println("[on_active] rollback racing the natural end: rounds=" + rounds + " rolled_back="
				+ rolledBack + " ended_first=" + endedFirst);
		assertThat(rolledBack).as("rounds rolled back").isPositive();
	}

	@Test
	void enqueuedMessagesStartInOrderUpToTheBoundAndCanBeStoppedWhileTheyWait() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		String id = "queue-" + UUID.randomUUID();
		String active = "a-" + UUID.randomUUID();
		ChatStream first = alice.chatStream(id, LONG_RUN, Map.of("run_id", active));
		awaitContent(first);

		ChatStream b = alice.at(cluster.gatewayUrl(1))
			.chatStream(id, 3, Map.of("run_id", "b-" + id, "on_active", "enqueue"));
		await().atMost(BOUND).until(() -> b.status == 200);
		ChatStream c = alice.chatStream(id, 3, Map.of("run_id", "c-" + id, "on_active", "enqueue"));
		await().atMost(BOUND).until(() -> c.status == 200);

		Response full = chat(alice, id, "d-" + id, "enqueue");
		assertThat(full.status()).isEqualTo(429);
		assertThat(full.retryAfter()).isEqualTo("1");
		assertThat(full.json().get("detail").asString()).contains(MAX_QUEUED + " messages already wait");
		Response invalid = chat(alice, id, "e-" + id, "later");
		assertThat(invalid.status()).isEqualTo(400);
		assertThat(invalid.json().get("detail").asString())
			.contains("on_active: must be one of reject, interrupt, rollback, enqueue");
		Response rejected = chat(alice, id, "f-" + id, null);
		assertThat(rejected.status()).as("reject stays the default").isEqualTo(409);

		// c is stopped while it waits: it never starts, and the bound has room again
		assertThat(alice.at(cluster.gatewayUrl(1)).stop(id, Map.of("run_id", "c-" + id)).status()).isEqualTo(200);
		List<String> cEvents = c.drain(BOUND);
		assertThat(cEvents).anyMatch(event -> event.contains("\"finish_reason\":\"cancelled\""));
		assertThat(RunIdIntegrationTests.streamed(cEvents)).isEmpty();
		assertThat(alice.at(cluster.gatewayUrl(1)).resumeStream(id, "c-" + id, null).drain(BOUND))
			.as("its replay: the end of a run that never started")
			.anyMatch(event -> event.contains("\"finish_reason\":\"cancelled\""));
		ChatStream d = alice.chatStream(id, 3, Map.of("run_id", "d-" + id, "on_active", "enqueue"));
		await().atMost(BOUND).until(() -> d.status == 200);
		assertThat(alice.active().json().get("active_conversations").get(id).get("run_id").asString())
			.as("still the first run")
			.isEqualTo(active);

		assertThat(alice.stop(id, Map.of("run_id", active)).status()).isEqualTo(200);
		assertThat(first.drain(BOUND)).anyMatch(event -> event.contains("\"finish_reason\":\"cancelled\""));
		assertThat(b.drain(BOUND)).anyMatch(event -> event.contains("\"finish_reason\":\"stop\""));
		assertThat(d.drain(BOUND)).anyMatch(event -> event.contains("\"finish_reason\":\"stop\""));
		assertThat(shape(alice.history(id).json().get("messages"))).containsExactly("user " + active,
				"assistant " + active + " stopped user", "system " + active + " complete user", "user b-" + id,
				"assistant b-" + id + " complete", "user d-" + id, "assistant d-" + id + " complete");
	}

	@Test
	void aStopOfTheConversationStopsTheWaitingMessagesToo() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		String id = "stop-all-" + UUID.randomUUID();
		String active = "a-" + UUID.randomUUID();
		ChatStream first = alice.chatStream(id, LONG_RUN, Map.of("run_id", active));
		awaitContent(first);
		ChatStream b = alice.at(cluster.gatewayUrl(1))
			.chatStream(id, 3, Map.of("run_id", "b-" + id, "on_active", "enqueue"));
		ChatStream c = alice.chatStream(id, 3, Map.of("run_id", "c-" + id, "on_active", "enqueue"));
		await().atMost(BOUND).until(() -> b.status == 200 && c.status == 200);

		assertThat(alice.at(cluster.gatewayUrl(1)).stop(id).status()).isEqualTo(200);

		assertThat(first.drain(BOUND)).anyMatch(event -> event.contains("\"finish_reason\":\"cancelled\""));
		for (ChatStream waiting : List.of(b, c)) {
			List<String> events = waiting.drain(BOUND);
			assertThat(events).anyMatch(event -> event.contains("\"finish_reason\":\"cancelled\""));
			assertThat(RunIdIntegrationTests.streamed(events)).isEmpty();
		}
		assertThat(alice.active().json().get("active_conversations").has(id)).isFalse();
		assertThat(shape(alice.history(id).json().get("messages"))).hasSize(3).first().isEqualTo("user " + active);
	}

	/**
	 * Three tabs send messages with {@code on_active: interrupt} to one conversation
	 * through both gateways, each as soon as its previous one was answered: every
	 * accepted message has exactly one answer, the history is a sequence of whole turns
	 * in the order they ran, and the invariant checker holds.
	 */
	@Test
	void anInterruptStormKeepsEveryAcceptedMessageAndOneRunAtATime() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		String id = "storm-" + UUID.randomUUID();
		int tabs = 3;
		int perTab = 8;
		Map<String, Integer> outcomes = new ConcurrentHashMap<>();
		Set<String> accepted = ConcurrentHashMap.newKeySet();
		try (Invariants invariants = Invariants.watch("on_active interrupt storm", alice, inspector.template())) {
			List<Thread> threads = new ArrayList<>();
			for (int tab = 0; tab < tabs; tab++) {
				Api client = invariants.api().at(cluster.gatewayUrl(tab % 2));
				int number = tab;
				threads.add(Thread.ofVirtual().start(() -> {
					for (int i = 0; i < perTab; i++) {
						String runId = "s" + number + "-" + i + "-" + UUID.randomUUID();
						int tokens = 5 + ThreadLocalRandom.current().nextInt(40);
						ChatStream stream = client.chatStream(id, tokens,
								Map.of("run_id", runId, "on_active", "interrupt"));
						try {
							await().atMost(BOUND).until(() -> stream.status != 0);
							String outcome = "409";
							if (stream.status == 200) {
								accepted.add(runId);
								List<String> events = stream.drain(BOUND);
								outcome = events.stream().anyMatch(event -> event.contains("\"cancelled\""))
										? "cancelled" : "stop";
							}
							outcomes.merge(outcome, 1, Integer::sum);
							LockSupport.parkNanos(Duration.ofMillis(ThreadLocalRandom.current().nextInt(80)).toNanos());
						}
						catch (InterruptedException ex) {
							Thread.currentThread().interrupt();
							return;
						}
					}
				}));
			}
			for (Thread thread : threads) {
				thread.join(BOUND.multipliedBy(perTab).toMillis());
			}
			invariants.stopEverything(BOUND);
			invariants.assertHold(BOUND);
		}
		System.out.println("[on_active] interrupt storm: sends=" + tabs * perTab + " outcomes=" + outcomes);
		assertThat(outcomes.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(tabs * perTab);

		// whole turns, one per accepted message: user, answer, and the notice when
		// stopped
		JsonNode messages = alice.history(id).json().get("messages");
		List<String> order = new ArrayList<>();
		Map<String, List<String>> turns = new LinkedHashMap<>();
		for (JsonNode message : messages) {
			String run = message.get("run_id").asString();
			if (order.isEmpty() || !order.get(order.size() - 1).equals(run)) {
				assertThat(turns).as("run %s's messages are contiguous", run).doesNotContainKey(run);
				order.add(run);
			}
			turns.computeIfAbsent(run, key -> new ArrayList<>()).add(message.get("role").asString());
		}
		Set<String> recorded = new HashSet<>(turns.keySet());
		recorded.retainAll(accepted);
		assertThat(recorded).as("every accepted message is in the history").hasSize(accepted.size());
		turns.forEach((run, roles) -> assertThat(String.join(",", roles)).as(run)
			.isIn("user,assistant", "user,assistant,system"));
	}

	/** A chat request, not streamed, with {@code on_active} (none when null). */
	private static Response chat(Api api, String conversationId, String runId, String onActive) throws Exception {
		Map<String, Object> body = new HashMap<>(Map.of("model", "assistant", "conversation_id", conversationId,
				"max_tokens", 3, "run_id", runId, "messages", List.of(Map.of("role", "user", "content", "Hello"))));
		if (onActive != null) {
			body.put("on_active", onActive);
		}
		return api.raw("POST", "/v1/chat/completions", Api.JSON.writeValueAsString(body),
				Map.of("Authorization", "Bearer " + api.token(), "Content-Type", "application/json"));
	}

	/**
	 * The history as {@code role run_id [status [stop_reason]]} lines (a user message
	 * shows no status).
	 */
	private static List<String> shape(JsonNode messages) {
		List<String> shape = new ArrayList<>();
		for (JsonNode message : messages) {
			StringBuilder line = new StringBuilder(message.get("role").asString()).append(' ')
				.append(message.get("run_id").asString());
			if (!message.get("role").asString().equals("user")) {
				line.append(' ').append(message.get("status").asString());
				JsonNode reason = message.get("stop_reason");
				if (reason != null && !reason.isNull()) {
					line.append(' ').append(reason.asString());
				}
			}
			shape.add(line.toString());
		}
		return shape;
	}

	private static List<String> awaitContent(ChatStream stream) throws InterruptedException {
		List<String> read = new ArrayList<>();
		long deadline = System.nanoTime() + BOUND.toNanos();
		while (System.nanoTime() < deadline) {
			String event = stream.next(BOUND);
			if (event != null) {
				read.add(event);
				if (!RunIdIntegrationTests.streamed(read).isEmpty()) {
					return read;
				}
			}
		}
		throw new AssertionError("no content within " + BOUND);
	}

	/**
	 * Samples both workers' tasks: a run generates from its claim until it starts
	 * recording its outcome ({@link RunningTask#isFinishing()}). Each sample reads every
	 * worker twice; a run seen generating in both reads generated throughout, so two such
	 * runs of one conversation generated at the same moment.
	 */
	static final class GenerationMonitor implements AutoCloseable {

		final AtomicLong samples = new AtomicLong();

		final Set<String> overlaps = ConcurrentHashMap.newKeySet();

		private final Cluster cluster;

		private volatile boolean running = true;

		private final Thread thread;

		GenerationMonitor(Cluster cluster) {
			this.cluster = cluster;
			this.thread = Thread.ofPlatform().daemon().name("generation-monitor").start(this::sample);
		}

		private void sample() {
			while (running) {
				Map<String, Set<String>> before;
				Map<String, Set<String>> after;
				try {
					before = generating();
					after = generating();
				}
				catch (RuntimeException ex) {
					// a node closing
					continue;
				}
				before.forEach((conversation, runs) -> {
					Set<String> throughout = new HashSet<>(runs);
					throughout.retainAll(after.getOrDefault(conversation, Set.of()));
					if (throughout.size() > 1) {
						overlaps.add(conversation + " " + throughout);
					}
				});
				samples.incrementAndGet();
				LockSupport.parkNanos(200_000);
			}
		}

		private Map<String, Set<String>> generating() {
			Map<String, Set<String>> generating = new HashMap<>();
			for (int worker = 0; worker < cluster.workerCount(); worker++) {
				for (RunningTask task : cluster.tasks(worker).list()) {
					// claimed (a task registers before its claim, which may fail) and not
					// yet
					// recording its outcome
					if (task.record() != null && !task.isFinishing()) {
						generating.computeIfAbsent(task.userId() + "/" + task.conversationId(), key -> new HashSet<>())
							.add(task.runId());
					}
				}
			}
			return generating;
		}

		@Override
		public void close() {
			running = false;
			try {
				thread.join(1000);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}

	}

}
