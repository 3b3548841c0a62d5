package io.stopline.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;

import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two gateways and two workers on one real Redis. A run started through either gateway
 * lands on some worker; a stop through either gateway cancels it there, keeps the partial
 * answer and confirms.
 */
class MultiNodeStopIntegrationTests {

	/** Long enough never to complete during a test: 5,000 tokens at 20 ms. */
	private static final int LONG_RUN = 5000;

	private static final int SLOTS_PER_WORKER = 4;

	private static final Duration BOUND = Duration.ofSeconds(10);

	@RegisterExtension
	static final Cluster cluster = Cluster.onSharedRedis(2, 2,
			Map.of("stopline.worker.max-concurrent-runs", Integer.toString(SLOTS_PER_WORKER)), Map.of());

	private final List<Api> users = new ArrayList<>();

	@AfterEach
	void stopEverything() {
		users.forEach(Api::stopAll);
		await().atMost(BOUND).untilAsserted(() -> {
			for (int i = 0; i < cluster.workerCount(); i++) {
				assertThat(cluster.tasks(i).size()).as("runs left on worker %d", i).isZero();
			}
		});
	}

	@Test
	void runsLandOnBothWorkersAndEitherGatewayListsThemAll() {
		Api alice = user(0);
		Map<String, ChatStream> runs = startRuns(alice, 2 * SLOTS_PER_WORKER);

		Set<Integer> workersUsed = new HashSet<>();
		runs.keySet().forEach(id -> workersUsed.add(cluster.workerOf(userOf(alice), id)));
		assertThat(workersUsed).containsExactlyInAnyOrder(0, 1);

		for (int gateway = 0; gateway < cluster.gatewayCount(); gateway++) {
			JsonNode active = as(alice, gateway).active().json().get("active_conversations");
			assertThat(active.propertyNames()).containsExactlyInAnyOrderElementsOf(runs.keySet());
			JsonNode first = active.get(runs.keySet().iterator().next());
			assertThat(first.get("user_id").asString()).isEqualTo(userOf(alice));
			assertThat(first.get("agent_name").asString()).isEqualTo("assistant");
			assertThat(first.get("started_at").asString()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
		}
	}

	@Test
	void aStopThroughEachGatewayCancelsARunOnEachWorker() throws Exception {
		Api alice = user(0);
		Map<String, ChatStream> runs = startRuns(alice, 2 * SLOTS_PER_WORKER);
		Set<String> stopped = new HashSet<>();

		for (int gateway = 0; gateway < cluster.gatewayCount(); gateway++) {
			for (int worker = 0; worker < cluster.workerCount(); worker++) {
				String id = runOn(alice, runs.keySet(), worker, stopped);

				Response response = as(alice, gateway).stop(id);

				assertThat(response.status()).isEqualTo(200);
				assertThat(response.json().get("message").asString())
					.isEqualTo("Successfully stopped conversation " + id);
				// the confirmation leaves with the outcome's write; the worker's own
				// bookkeeping follows it
				int owner = worker;
				await().atMost(Duration.ofSeconds(5))
					.until(() -> cluster.tasks(owner).find(userOf(alice), id).isEmpty());
				assertEndsCancelled(runs.get(id));
				assertStoppedInHistory(alice, id);
				stopped.add(id);
			}
		}
		JsonNode active = alice.active().json().get("active_conversations");
		assertThat(active.propertyNames()).doesNotContainAnyElementsOf(stopped).hasSize(runs.size() - stopped.size());
	}

	@Test
	void stopAllCoversRunsOnBothWorkers() throws Exception {
		Api alice = user(0);
		Api bob = user(1);
		Map<String, ChatStream> aliceRuns = startRuns(alice, SLOTS_PER_WORKER + 2);
		Map<String, ChatStream> bobRuns = startRuns(bob, 1);

		Response response = as(alice, 1).stopAll();

		assertThat(response.status()).isEqualTo(200);
		assertThat(response.json().get("message").asString())
			.isEqualTo("Stopped " + aliceRuns.size() + " active conversation(s)");
		List<String> stoppedIds = new ArrayList<>();
		response.json().get("stopped").forEach(node -> stoppedIds.add(node.asString()));
		assertThat(stoppedIds).containsExactlyInAnyOrderElementsOf(aliceRuns.keySet());
		for (ChatStream stream : aliceRuns.values()) {
			assertEndsCancelled(stream);
		}
		assertThat(alice.active().json().get("active_conversations").propertyNames()).isEmpty();
		assertThat(bob.active().json().get("active_conversations").propertyNames())
			.containsExactlyElementsOf(bobRuns.keySet());
	}

	@Test
	void aBulkStopStopsOnlyTheNamedRunsAndSaysWhichWereNotActive() throws Exception {
		Api alice = user(0);
		Api mallory = user(1);
		List<String> ids = new ArrayList<>(startRuns(alice, 3).keySet());
		String foreign = startRuns(mallory, 1).keySet().iterator().next();

		Response response = as(alice, 1).stopOnly(List.of(ids.get(0), ids.get(1), "never-seen", foreign));

		assertThat(response.status()).isEqualTo(200);
		JsonNode body = response.json();
		assertThat(body.get("message").asString()).isEqualTo("Stopped 2 active conversation(s)");
		assertThat(body.get("stopped").valueStream().map(JsonNode::asString)).containsExactlyInAnyOrder(ids.get(0),
				ids.get(1));
		assertThat(body.get("not_active").valueStream().map(JsonNode::asString)).containsExactlyInAnyOrder("never-seen",
				foreign);
		assertThat(alice.active().json().get("active_conversations").propertyNames()).containsExactly(ids.get(2));
		assertThat(mallory.active().json().get("active_conversations").has(foreign)).isTrue();
		assertThat(alice.stopOnly(List.of("bad*id")).status()).isEqualTo(400);

		JsonNode listed = alice.get("/v1/conversations").json().get("conversations");
		assertThat(listed.valueStream().map(c -> c.get("conversation_id").asString()))
			.containsExactlyInAnyOrderElementsOf(ids);
		listed.forEach(conversation -> {
			assertThat(conversation.get("title").asString()).isEqualTo("Tell me a story");
			assertThat(conversation.get("active").asBoolean())
				.isEqualTo(conversation.get("conversation_id").asString().equals(ids.get(2)));
		});
		assertThat(listed.get(2).get("conversation_id").asString()).as("the still-running one is the least recent")
			.isEqualTo(ids.get(2));
	}

	@Test
	void anotherUsersStopIsNotFoundAndTheRunKeepsStreaming() throws Exception {
		Api alice = user(0);
		Api mallory = user(1);
		Map<String, ChatStream> runs = startRuns(alice, 1);
		String id = runs.keySet().iterator().next();
		ChatStream stream = runs.get(id);

		Response response = as(mallory, 1).stop(id);

		assertThat(response.status()).isEqualTo(404);
		assertThat(response.contentType()).startsWith("application/problem+json");
		assertThat(response.json().get("detail").asString()).isEqualTo("No active run for conversation " + id + ".");
		assertThat(response.body()).doesNotContain(userOf(alice));
		stream.events.clear();
		assertThat(stream.next(BOUND)).as("tokens keep coming after the foreign stop").contains("\"content\"");
		assertThat(stream.next(BOUND)).contains("\"content\"");
		assertThat(cluster.workerOf(userOf(alice), id)).isNotNegative();
		assertThat(mallory.active().json().get("active_conversations").propertyNames()).isEmpty();
		assertThat(mallory.history(id).status()).isEqualTo(404);
		assertThat(mallory.stopAll().json().get("stopped")).isEmpty();
		assertThat(cluster.workerOf(userOf(alice), id)).isNotNegative();
	}

	@Test
	void aSecondStopWithinAMinuteIsAnsweredAlreadyStopped() {
		Api alice = user(0);
		String id = startRuns(alice, 1).keySet().iterator().next();
		assertThat(alice.stop(id).status()).isEqualTo(200);

		Response again = as(alice, 1).stop(id);

		assertThat(again.status()).isEqualTo(200);
		assertThat(again.json().get("message").asString()).isEqualTo("Conversation " + id + " is already stopped");
	}

	@Test
	void aStoppedNonStreamingChatReturnsThePartialAnswer() {
		Api alice = user(0);
		String id = "plain-" + UUID.randomUUID();
		CompletableFuture<Response> chat = CompletableFuture.supplyAsync(() -> alice.chat(id, LONG_RUN),
				Executors.newVirtualThreadPerTaskExecutor());
		await().atMost(BOUND).until(() -> cluster.workerOf(userOf(alice), id) >= 0);

		assertThat(as(alice, 1).stop(id).status()).isEqualTo(200);

		Response completion = chat.join();
		assertThat(completion.status()).isEqualTo(200);
		assertThat(completion.conversationId()).isEqualTo(id);
		JsonNode choice = completion.json().get("choices").get(0);
		assertThat(choice.get("finish_reason").asString()).isEqualTo("cancelled");
		String partial = choice.get("message").get("content").asString();
		JsonNode history = alice.history(id).json().get("messages");
		assertThat(history.get(1).get("content").asString()).isEqualTo(partial);
		assertThat(history.get(1).get("status").asString()).isEqualTo("stopped");
	}

	@Test
	void tokensReachTheClientAsTheyAreProduced() throws Exception {
		Api alice = user(0);
		ChatStream stream = alice.chatStream("live-" + UUID.randomUUID(), LONG_RUN);
		List<Long> arrivals = new ArrayList<>();
		for (int i = 0; i < 22; i++) {
			assertThat(stream.next(BOUND)).isNotNull();
			arrivals.add(System.nanoTime());
		}
		// tokens come every 20 ms (400 ms from the 2nd to the 22nd); a buffered stream
		// would deliver them in one burst, a stall of the shared machine only in a few
		assertThat((arrivals.get(21) - arrivals.get(1)) / 1_000_000).as("ms between the 2nd and 22nd event")
			.isGreaterThanOrEqualTo(150);
	}

	@Test
	void aRunPastItsMaximumDurationIsStoppedWithReasonTimeout() throws Exception {
		Api alice = user(0);
		String id = "timed-" + UUID.randomUUID();
		ChatStream stream = alice.chatStream(id, LONG_RUN, Map.of("max_duration_seconds", 1));

		assertEndsCancelled(stream);

		JsonNode messages = alice.history(id).json().get("messages");
		assertThat(messages.get(1).get("status").asString()).isEqualTo("stopped");
		assertThat(messages.get(1).get("stop_reason").asString()).isEqualTo("timeout");
		assertThat(messages.get(1).get("content").asString()).isNotEmpty();
		assertThat(messages.get(2).get("content").asString()).contains("time limit");
		assertThat(cluster.workerOf(alice.userId(), id)).isNegative();
	}

	@Test
	void aConversationRunsOneRunAtATime() {
		Api alice = user(0);
		String id = startRuns(alice, 1).keySet().iterator().next();

		Response second = as(alice, 1).chat(id, 10);

		assertThat(second.status()).isEqualTo(409);
		assertThat(second.contentType()).startsWith("application/problem+json");
	}

	@Test
	void aStopWhileQueuedCancelsTheRunBeforeItStarts() throws Exception {
		Api alice = user(0);
		startRuns(alice, 2 * SLOTS_PER_WORKER);
		String queued = "queued-" + UUID.randomUUID();
		ChatStream stream = alice.chatStream(queued, LONG_RUN);
		await().atMost(BOUND).until(() -> alice.active().json().get("active_conversations").has(queued));
		assertThat(alice.active().json().get("active_conversations").get(queued).get("state").asString())
			.isEqualTo("queued");

		Response response = as(alice, 1).stop(queued);

		assertThat(response.status()).isEqualTo(200);
		assertEndsCancelled(stream);
		assertStoppedInHistory(alice, queued);
		alice.stopAll();
		await().atMost(BOUND).until(() -> cluster.tasks(0).size() + cluster.tasks(1).size() == 0);
		assertThat(cluster.workerOf(userOf(alice), queued)).isNegative();
		assertThat(alice.active().json().get("active_conversations").has(queued)).isFalse();
	}

	@Test
	void unknownConversationsAreNotFoundAndBadIdsAreRejected() {
		Api alice = user(0);

		Response unknown = alice.stop("never-seen");
		Response bad = alice.raw("POST", "/v1/conversation/bad*id%7B/stop", null,
				Map.of("Authorization", "Bearer " + tokenOf(alice)));

		assertThat(unknown.status()).isEqualTo(404);
		assertThat(unknown.contentType()).startsWith("application/problem+json");
		assertThat(bad.status()).isEqualTo(400);
		assertThat(bad.contentType()).startsWith("application/problem+json");
	}

	@Test
	void everyEndpointWantsAValidBearerToken() {
		Api anonymous = Api.withToken(cluster.gatewayUrl(0), null);
		Api forged = Api.withToken(cluster.gatewayUrl(1),
				"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLWFub3RoZXIta2V5LXRoYXQtaXMtd3Jvbmc");

		for (Api caller : List.of(anonymous, forged)) {
			for (Response response : List.of(caller.stop("c1"), caller.stopAll(), caller.active(), caller.history("c1"),
					caller.chat("c1", 5))) {
				assertThat(response.status()).isEqualTo(401);
				assertThat(response.contentType()).startsWith("application/problem+json");
				assertThat(response.json().get("status").asInt()).isEqualTo(401);
			}
		}
	}

	private Api user(int gateway) {
		Api api = cluster.api(gateway, "user-" + UUID.randomUUID());
		users.add(api);
		return api;
	}

	/** The same user through another gateway. */
	private Api as(Api user, int gateway) {
		return user.at(cluster.gatewayUrl(gateway));
	}

	private static String tokenOf(Api api) {
		return api.token();
	}

	private static String userOf(Api api) {
		return api.userId();
	}

	/**
	 * Starts streaming runs through alternating gateways and waits until each runs on
	 * some worker.
	 */
	private Map<String, ChatStream> startRuns(Api user, int count) {
		Map<String, ChatStream> runs = new LinkedHashMap<>();
		for (int i = 0; i < count; i++) {
			String id = "conv-" + UUID.randomUUID();
			runs.put(id, as(user, i % cluster.gatewayCount()).chatStream(id, LONG_RUN));
		}
		await().atMost(BOUND)
			.untilAsserted(() -> runs.keySet()
				.forEach(id -> assertThat(cluster.workerOf(userOf(user), id)).as("worker of %s", id).isNotNegative()));
		return runs;
	}

	private String runOn(Api user, Set<String> ids, int worker, Set<String> exclude) {
		return ids.stream()
			.filter(id -> !exclude.contains(id) && cluster.workerOf(userOf(user), id) == worker)
			.findFirst()
			.orElseThrow(() -> new AssertionError("no run on worker " + worker));
	}

	private static void assertEndsCancelled(ChatStream stream) throws InterruptedException {
		List<String> events = stream.drain(BOUND);
		assertThat(events.get(events.size() - 2)).contains("\"finish_reason\":\"cancelled\"");
		assertThat(stream.status).isEqualTo(200);
	}

	private static void assertStoppedInHistory(Api user, String id) {
		JsonNode messages = user.history(id).json().get("messages");
		assertThat(messages).hasSize(3);
		assertThat(messages.get(0).get("role").asString()).isEqualTo("user");
		assertThat(messages.get(1).get("role").asString()).isEqualTo("assistant");
		assertThat(messages.get(1).get("status").asString()).isEqualTo("stopped");
		assertThat(messages.get(1).get("stop_reason").asString()).isIn("user", "stop_all");
		assertThat(messages.get(2).get("content").asString()).isEqualTo("Conversation stopped by user.");
	}

}
