package io.stopline.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Response;
import io.stopline.testing.FakeUpstream;
import io.stopline.testing.FakeUpstream.Behaviour;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The WebSocket stream, pause/resume and a real upstream, on two gateways and two
 * workers: sockets on both gateways see one conversation's events whichever gateway stops
 * it; a paused run emits nothing, resumes where it left off, stops at once and times out;
 * a stop closes the upstream model's connection.
 */
class ConversationStreamIntegrationTests {

	private static final int LONG_RUN = 5000;

	private static final Duration BOUND = Duration.ofSeconds(10);

	private static final Duration MAX_PAUSE = Duration.ofSeconds(6);

	private static Cluster cluster;

	private static FakeUpstream upstream;

	private final List<Api> users = new ArrayList<>();

	private final List<StreamClient> sockets = new ArrayList<>();

	@BeforeAll
	static void startCluster() {
		upstream = FakeUpstream.start();
		cluster = Cluster.start(TestRedis.shared(), 2, 2,
				Map.of("stopline.worker.max-concurrent-runs", "4", "stopline.worker.max-pause-duration",
						MAX_PAUSE.toSeconds() + "s", "stopline.model.agents.upstream.base-url", upstream.baseUrl(),
						"stopline.model.agents.upstream.model", "fake-model",
						"stopline.model.agents.upstream.read-timeout", "5s"));
	}

	@AfterAll
	static void stopCluster() {
		if (cluster != null) {
			cluster.close();
		}
		if (upstream != null) {
			upstream.close();
		}
	}

	@AfterEach
	void stopEverything() {
		sockets.forEach(StreamClient::close);
		users.forEach(Api::stopAll);
		await().atMost(BOUND).untilAsserted(() -> {
			for (int i = 0; i < cluster.workerCount(); i++) {
				assertThat(cluster.tasks(i).size()).as("runs left on worker %d", i).isZero();
			}
		});
	}

	@Test
	void socketsOnBothGatewaysSeeTheStateThenTheStopAndStayOpenForTheNextRun() throws Exception {
		Api alice = user(0);
		String conversation = newConversation();
		ChatStream chat = alice.chatStream(conversation, LONG_RUN);
		assertThat(chat.next(BOUND)).isNotNull();
		awaitToken(chat);
		String runId = alice.active().json().get("active_conversations").get(conversation).get("run_id").asString();

		StreamClient first = socket(StreamClient.withHeader(cluster.gatewayUrl(0), conversation, alice.token()));
		JsonNode firstState = first.next(BOUND);
		assertThat(firstState.get("type").asString()).isEqualTo("state");
		// joined mid-run: the answer so far, then the tokens from exactly there
		JsonNode snapshot = first.next(BOUND);
		assertThat(snapshot.get("type").asString()).isEqualTo("run_snapshot");
		assertThat(snapshot.get("content").asString()).isNotEmpty();
		assertThat(first.nextOfType("token", BOUND).get("index").asInt()).isEqualTo(snapshot.get("tokens").asInt());
		StreamClient second = socket(StreamClient.withQueryToken(cluster.gatewayUrl(1), conversation, alice.token()));
		for (StreamClient socket : List.of(second)) {
			JsonNode state = socket.next(BOUND);
			assertThat(state.get("type").asString()).as("the first event is the state").isEqualTo("state");
			assertThat(state.get("active_run").get("run_id").asString()).isEqualTo(runId);
			assertThat(state.get("active_run").get("state").asString()).isEqualTo("running");
			assertThat(state.get("messages").get(0).get("role").asString()).isEqualTo("user");
			JsonNode token = socket.nextOfType("token", BOUND);
			assertThat(token.get("run_id").asString()).isEqualTo(runId);
			assertThat(token.get("conversation_id").asString()).isEqualTo(conversation);
			assertThat(token.get("timestamp").asString()).isNotBlank();
		}

		// a third party: a plain HTTP stop through the other gateway
		assertThat(alice.at(cluster.gatewayUrl(1)).stop(conversation).status()).isEqualTo(200);

		for (StreamClient socket : List.of(first, second)) {
			JsonNode stopped = socket.nextOfType("run_stopped", BOUND);
			assertThat(stopped.get("reason").asString()).isEqualTo("user");
			assertThat(stopped.get("run_id").asString()).isEqualTo(runId);
			assertThat(stopped.get("content").asString()).isNotEmpty();
			JsonNode answer = socket.nextOfType("message_added", BOUND).get("message");
			assertThat(answer.get("role").asString()).isEqualTo("assistant");
			assertThat(answer.get("status").asString()).isEqualTo("stopped");
			JsonNode notice = socket.nextOfType("message_added", BOUND).get("message");
			assertThat(notice.get("role").asString()).isEqualTo("system");
			assertThat(notice.get("content").asString()).isEqualTo("Conversation stopped by user.");
		}
		assertThat(first.isOpen()).isTrue();
		assertThat(second.isOpen()).isTrue();

		// the same sockets carry the next run, and its stop-all
		ChatStream next = alice.chatStream(conversation, LONG_RUN);
		for (StreamClient socket : List.of(first, second)) {
			JsonNode userMessage = socket.nextOfType("message_added", BOUND);
			assertThat(userMessage.get("message").get("role").asString()).isEqualTo("user");
			JsonNode started = socket.nextOfType("run_started", BOUND);
			assertThat(started.get("run_id").asString()).isNotEqualTo(runId);
			JsonNode streaming = socket.nextOfType("message_added", BOUND).get("message");
			assertThat(streaming.get("status").asString()).isEqualTo("streaming");
		}
		awaitToken(next);
		assertThat(alice.stopAll().status()).isEqualTo(200);
		for (StreamClient socket : List.of(first, second)) {
			assertThat(socket.nextOfType("run_stopped", BOUND).get("reason").asString()).isEqualTo("stop_all");
			assertThat(socket.isOpen()).isTrue();
		}
	}

	@Test
	void tokensOfAnUnwatchedConversationStayOffItsChannel() throws Exception {
		Api alice = user(0);
		String conversation = newConversation();
		try (RedisInspector redis = new RedisInspector(TestRedis.shared())) {
			java.util.concurrent.BlockingQueue<String> published = new java.util.concurrent.LinkedBlockingQueue<>();
			org.redisson.api.RTopic channel = redis.clients()
				.redisson()
				.getTopic(io.stopline.core.schema.Keys.conversationEvents(alice.userId(), conversation),
						org.redisson.client.codec.StringCodec.INSTANCE);
			channel.addListener(String.class, (name, message) -> published.add(message));
			ChatStream chat = alice.chatStream(conversation, LONG_RUN);
			awaitToken(chat);
			awaitToken(chat);
			assertThat(alice.stop(conversation).status()).isEqualTo(200);
			chat.drain(BOUND);
			await().atMost(BOUND).until(() -> published.stream().anyMatch(m -> m.contains("\"run_stopped\"")));
			// run events and messages go out, tokens only to the gateway streaming them
			assertThat(published).anyMatch(m -> m.contains("\"run_started\""))
				.noneMatch(m -> io.stopline.protocol.TokenFrames.decodeEvents(m)
					.stream()
					.anyMatch(io.stopline.protocol.RunEvent.TokenGenerated.class::isInstance));
			channel.removeAllListeners();
		}
	}

	@Test
	void aSocketOpenedAfterTheRunEndedGetsTheHistoryAndNoActiveRun() throws Exception {
		Api alice = user(0);
		String conversation = newConversation();
		alice.chatStream(conversation, 3).drain(BOUND);

		StreamClient socket = socket(StreamClient.withQueryToken(cluster.gatewayUrl(1), conversation, alice.token()));
		JsonNode state = socket.next(BOUND);
		assertThat(state.get("type").asString()).isEqualTo("state");
		assertThat(state.get("active_run").isNull()).isTrue();
		assertThat(state.get("messages")).hasSize(2);
		assertThat(state.get("messages").get(1).get("status").asString()).isEqualTo("complete");
	}

	@Test
	void aSocketOpenedBeforeTheFirstMessageGetsAnEmptyStateThenEveryEventOfTheFirstRun() throws Exception {
		Api alice = user(0);
		Api bob = user(1);
		String conversation = newConversation();
		// alice's socket on the other gateway than her chat; bob's of the same id on hers
		StreamClient socket = socket(StreamClient.withHeader(cluster.gatewayUrl(1), conversation, alice.token()));
		StreamClient bobs = socket(StreamClient.withHeader(cluster.gatewayUrl(0), conversation, bob.token()));
		for (StreamClient client : List.of(socket, bobs)) {
			JsonNode state = client.next(BOUND);
			assertThat(state.get("type").asString()).isEqualTo("state");
			assertThat(state.get("messages")).isEmpty();
			assertThat(state.get("active_run").isNull()).isTrue();
		}

		ChatStream chat = alice.chatStream(conversation, 20);
		List<String> chunks = chat.drain(BOUND);
		String streamed = String.join("", chunks.stream()
			.filter(data -> !data.equals("[DONE]"))
			.map(data -> Api.JSON.readTree(data).get("choices").get(0).path("delta").path("content").asString(""))
			.toList());
		assertThat(socket.nextOfType("message_added", BOUND).get("message").get("role").asString()).isEqualTo("user");
		String runId = socket.nextOfType("run_started", BOUND).get("run_id").asString();
		StringBuilder tokens = new StringBuilder();
		int next = 0;
		JsonNode event;
		while (!(event = socket.next(BOUND)).get("type").asString().equals("run_completed")) {
			if (event.get("type").asString().equals("token")) {
				assertThat(event.get("index").asInt()).as("tokens in order, none missing").isEqualTo(next);
				tokens.append(event.get("delta").asString());
				next += event.get("count").asInt();
			}
		}
		assertThat(event.get("run_id").asString()).isEqualTo(runId);
		assertThat(tokens.toString()).as("every token reached the socket opened before the first message")
			.isEqualTo(event.get("content").asString())
			.isEqualTo(streamed);
		assertThat(socket.nextOfType("message_added", BOUND).get("message").get("status").asString())
			.isEqualTo("complete");
		// another user's conversation of the same id is another conversation: nothing of
		// alice's reaches bob, and his stays empty
		assertThat(bobs.next(Duration.ofMillis(300))).isNull();
		assertThat(bob.history(conversation).status()).isEqualTo(404);
	}

	@Test
	void badTokensAndBadIdsAreClosedWithPolicyViolation() throws Exception {
		Api alice = user(0);
		Api bob = user(1);
		String conversation = newConversation();
		ChatStream chat = alice.chatStream(conversation, LONG_RUN);
		awaitToken(chat);
		String tampered = alice.token().substring(0, alice.token().length() - 2)
				+ (alice.token().endsWith("AA") ? "BB" : "AA");

		List<StreamClient> refused = List.of(
				StreamClient.withQueryToken(cluster.gatewayUrl(0), conversation, "not-a-jwt"),
				StreamClient.withHeader(cluster.gatewayUrl(0), conversation, tampered),
				StreamClient.withQueryToken(cluster.gatewayUrl(0), "bad*id", alice.token()));
		for (StreamClient socket : refused) {
			sockets.add(socket);
			assertThat(socket.closeCode(BOUND)).isEqualTo(1008);
			assertThat(socket.next(Duration.ZERO)).as("nothing sent before the close").isNull();
		}
		// bob cannot pause alice's run either: the same 404 as for a conversation he has
		// not
		assertThat(bob.pause(conversation).status()).isEqualTo(404);
		assertThat(bob.pause(newConversation()).status()).isEqualTo(404);
	}

	@Test
	void aPausedRunEmitsNothingResumesWhereItLeftOffAndStopsAtOnce() throws Exception {
		Api alice = user(0);
		String conversation = newConversation();
		ChatStream chat = alice.chatStream(conversation, LONG_RUN);
		awaitToken(chat);
		StreamClient socket = socket(StreamClient.withHeader(cluster.gatewayUrl(1), conversation, alice.token()));
		socket.nextOfType("state", BOUND);
		int seen = socket.nextOfType("token", BOUND).get("index").asInt();

		Response paused = alice.at(cluster.gatewayUrl(1)).pause(conversation);
		assertThat(paused.status()).isEqualTo(200);
		assertThat(paused.json().get("state").asString()).isEqualTo("paused");
		int lastIndex = lastTokenBefore(socket, "run_paused", seen);
		assertThat(alice.active().json().get("active_conversations").get(conversation).get("state").asString())
			.isEqualTo("paused");
		assertThat(alice.pause(conversation).status()).as("a repeated pause is harmless").isEqualTo(200);
		// (the repeated pause is announced again, for views that missed the first)
		JsonNode during;
		while ((during = socket.next(Duration.ofMillis(400))) != null) {
			assertThat(during.get("type").asString()).as("a paused run emits nothing").isEqualTo("run_paused");
		}

		assertThat(alice.resume(conversation).status()).isEqualTo(200);
		socket.nextOfType("run_resumed", BOUND);
		JsonNode token = socket.nextOfType("token", BOUND);
		assertThat(token.get("index").asInt()).as("continues where it left off").isEqualTo(lastIndex + 1);
		assertThat(alice.active().json().get("active_conversations").get(conversation).get("state").asString())
			.isEqualTo("running");

		assertThat(alice.pause(conversation).status()).isEqualTo(200);
		long started = System.nanoTime();
		Response stopped = alice.stop(conversation);
		System.out.printf("[pause] stop of a paused run answered %d in %.1f ms%n", stopped.status(),
				(System.nanoTime() - started) / 1e6);
		assertThat(stopped.status()).isEqualTo(200);
		assertThat(socket.nextOfType("run_stopped", BOUND).get("reason").asString()).isEqualTo("user");
		List<String> rest = chat.drain(BOUND);
		assertThat(rest.get(rest.size() - 2)).contains("\"finish_reason\":\"cancelled\"");
	}

	@Test
	void aRunPausedTooLongIsStoppedWithReasonTimeout() throws Exception {
		Api alice = user(0);
		String conversation = newConversation();
		ChatStream chat = alice.chatStream(conversation, LONG_RUN);
		awaitToken(chat);
		StreamClient socket = socket(StreamClient.withHeader(cluster.gatewayUrl(0), conversation, alice.token()));
		socket.nextOfType("state", BOUND);

		long pausedAt = System.nanoTime();
		assertThat(alice.pause(conversation).status()).isEqualTo(200);
		JsonNode stopped = socket.nextOfType("run_stopped", MAX_PAUSE.plus(BOUND));
		long after = System.nanoTime() - pausedAt;
		System.out.printf("[pause] paused run stopped by timeout after %d ms (max-pause-duration %d ms)%n",
				after / 1_000_000, MAX_PAUSE.toMillis());
		assertThat(stopped.get("reason").asString()).isEqualTo("timeout");
		assertThat(Duration.ofNanos(after)).isGreaterThanOrEqualTo(MAX_PAUSE);
		JsonNode history = alice.history(conversation).json().get("messages");
		assertThat(history.get(history.size() - 1).get("content").asString())
			.isEqualTo("Conversation stopped: it ran past its time limit.");
	}

	@Test
	void aStopClosesTheUpstreamModelsConnection() throws Exception {
		upstream.behave(new Behaviour.Stream(-1, Duration.ofMillis(20)));
		Api alice = user(0);
		String conversation = newConversation();
		ChatStream chat = alice.chatStream(conversation, LONG_RUN, Map.of("model", "upstream"));
		FakeUpstream.Exchange exchange = upstream.nextExchange(BOUND);
		assertThat(exchange).isNotNull();
		awaitToken(chat);

		long requested = System.nanoTime();
		Response stopped = alice.at(cluster.gatewayUrl(1)).stop(conversation);
		long answered = System.nanoTime();
		long disconnected = exchange.awaitDisconnect(BOUND);

		assertThat(stopped.status()).isEqualTo(200);
		assertThat(disconnected).as("the upstream saw its client go").isPositive();
		System.out.printf("[upstream] stop request -> upstream disconnect %.2f ms (stop answered after %.2f ms)%n",
				(disconnected - requested) / 1e6, (answered - requested) / 1e6);
		assertThat(Duration.ofNanos(disconnected - requested)).isLessThan(Duration.ofSeconds(1));
		JsonNode history = alice.history(conversation).json().get("messages");
		assertThat(history.get(1).get("status").asString()).isEqualTo("stopped");
		assertThat(history.get(1).get("content").asString()).startsWith("t0");
		// the upstream's writer ends with the write that hits the closed connection
		assertThat(exchange.awaitServerDone(BOUND)).as("the upstream stopped generating").isTrue();
		assertThat(exchange.tokensSent()).isLessThanOrEqualTo(exchange.tokensSentAtDisconnect() + 1);
	}

	@Test
	void anUpstreamFailureEndsTheRunWithAnErrorAndLeavesNothingBehind() throws Exception {
		Api alice = user(0);
		for (Behaviour failure : List.of(new Behaviour.Status(500, "boom"), new Behaviour.Truncated(2))) {
			upstream.behave(failure);
			String conversation = newConversation();
			ChatStream chat = alice.chatStream(conversation, 50, Map.of("model", "upstream"));
			List<String> events = chat.drain(BOUND);
			assertThat(String.join("\n", events)).contains("The model provider");
			JsonNode history = alice.history(conversation).json().get("messages");
			JsonNode answer = history.get(history.size() - 1);
			assertThat(answer.get("status").asString()).isEqualTo("failed");
			assertThat(answer.get("error").asString()).startsWith("The model provider");
			assertThat(alice.active().json().get("active_conversations").size()).isZero();
		}
		upstream.behave(new Behaviour.Stream(-1, Duration.ofMillis(20)));
	}

	/** The index of the last token before the event of this type. */
	private static int lastTokenBefore(StreamClient socket, String type, int seen) throws InterruptedException {
		int last = seen;
		while (true) {
			JsonNode event = socket.next(BOUND);
			assertThat(event).as("a %s event", type).isNotNull();
			String eventType = event.get("type").asString();
			if (eventType.equals("token")) {
				// a frame: its last token's index
				last = event.get("index").asInt() + event.get("count").asInt() - 1;
			}
			else if (eventType.equals(type)) {
				return last;
			}
		}
	}

	private static void awaitToken(ChatStream chat) throws InterruptedException {
		for (int i = 0; i < 3; i++) {
			String event = chat.next(BOUND);
			assertThat(event).as("the chat streams").isNotNull();
			if (event.contains("\"content\":\"") && !event.contains("\"content\":\"\"")) {
				return;
			}
		}
	}

	private StreamClient socket(StreamClient socket) {
		sockets.add(socket);
		return socket;
	}

	private Api user(int gateway) {
		Api api = cluster.api(gateway, "stream-" + UUID.randomUUID());
		users.add(api);
		return api;
	}

	private static String newConversation() {
		return "c-" + UUID.randomUUID();
	}

}
