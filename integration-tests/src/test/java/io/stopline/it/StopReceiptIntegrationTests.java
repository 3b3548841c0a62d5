package io.stopline.it;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.stopline.core.ops.StopAudit;
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
 * Stop receipts and "keep what the user saw" (issue 18, items 5 and 6) through two
 * gateways and two workers: the 200 answer, the {@code run_stopped} event and the audit
 * entry carry the same receipt with its stages in order; with an upstream model the
 * upstream writes at most one chunk after the stop was requested; {@code seen_tokens}
 * cuts the recorded answer to exactly what the stopping client displayed.
 */
class StopReceiptIntegrationTests {

	private static final int LONG_RUN = 5000;

	private static final Duration BOUND = Duration.ofSeconds(20);

	private static TestRedis redis;

	private static FakeUpstream upstream;

	private static Cluster cluster;

	private static RedisInspector inspector;

	@BeforeAll
	static void start() {
		redis = TestRedis.dedicatedProcess();
		upstream = FakeUpstream.start();
		cluster = Cluster.start(redis, 2, 2,
				Map.of("stopline.model.agents.upstream.base-url", upstream.baseUrl(),
						"stopline.model.agents.upstream.model", "fake-model",
						"stopline.model.agents.upstream.read-timeout", "5s"));
		inspector = new RedisInspector(redis);
	}

	@AfterAll
	static void stop() {
		if (cluster != null) {
			cluster.close();
		}
		if (upstream != null) {
			upstream.close();
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
	void theAnswerTheEventAndTheAuditCarryOneReceiptInStageOrder() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		String id = "receipt-" + UUID.randomUUID();
		ChatStream chat = alice.chatStream(id, LONG_RUN);
		await().atMost(BOUND).until(() -> alice.active().body().contains(id));
		try (StreamClient socket = StreamClient.withHeader(cluster.gatewayUrl(1), id, alice.token())) {
			awaitTokens(socket, 3);
			Response stop = alice.at(cluster.gatewayUrl(1)).stop(id);
			JsonNode event = socket.nextOfType("run_stopped", BOUND);

			assertThat(stop.status()).isEqualTo(200);
			JsonNode receipt = stop.json();
			String runId = receipt.get("run_id").asString();
			assertThat(receipt.get("tokens_kept").asInt()).isPositive();
			assertThat(receipt.has("upstream_closed_at")).as("the simulated model has no upstream").isFalse();
			Instant requested = Instant.parse(receipt.get("requested_at").asString());
			Instant delivered = Instant.parse(receipt.get("delivered_at").asString());
			Instant persisted = Instant.parse(receipt.get("persisted_at").asString());
			assertThat(requested).isBeforeOrEqualTo(delivered);
			assertThat(delivered).isBeforeOrEqualTo(persisted);
			System.out.printf("[receipt] requested -> delivered %d µs -> persisted %d µs; %d tokens kept%n",
					Duration.between(requested, delivered).toNanos() / 1000,
					Duration.between(delivered, persisted).toNanos() / 1000, receipt.get("tokens_kept").asInt());

			assertThat(event.get("run_id").asString()).isEqualTo(runId);
			for (String field : List.of("tokens_kept", "requested_at", "delivered_at", "persisted_at")) {
				assertThat(event.get(field).asString()).as(field).isEqualTo(receipt.get(field).asString());
			}
			JsonNode messages = alice.history(id).json().get("messages");
			assertThat(event.get("content").asString()).isEqualTo(messages.get(1).get("content").asString());

			await().atMost(BOUND)
				.untilAsserted(() -> assertThat(new StopAudit(inspector.template()).read(alice.userId(), null, 10))
					.anySatisfy(entry -> {
						assertThat(entry.run()).isEqualTo(runId);
						assertThat(entry.outcome()).isEqualTo("confirmed");
						assertThat(entry.tokensKept()).isEqualTo(receipt.get("tokens_kept").asInt());
						assertThat(entry.receipt()).isNotNull();
						assertThat(entry.receipt().requestedAt()).isEqualTo(requested);
						assertThat(entry.receipt().persistedAt()).isEqualTo(persisted);
					}));
		}
		chat.drain(BOUND);
	}

	@Test
	void theUpstreamWritesAtMostOneChunkAfterTheStopWasRequested() throws Exception {
		upstream.behave(new Behaviour.Stream(-1, Duration.ofMillis(20)));
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		List<Integer> after = new ArrayList<>();
		List<Integer> afterClose = new ArrayList<>();
		List<Long> closedMicros = new ArrayList<>();
		for (int i = 0; i < 10; i++) {
			String id = "upstream-" + UUID.randomUUID();
			ChatStream chat = alice.chatStream(id, LONG_RUN, Map.of("model", "upstream"));
			FakeUpstream.Exchange exchange = upstream.nextExchange(BOUND);
			assertThat(exchange).isNotNull();
			await().atMost(BOUND).until(() -> exchange.tokensSent() >= 5);

			Response stop = alice.at(cluster.gatewayUrl(1 - i % 2)).stop(id);

			assertThat(stop.status()).isEqualTo(200);
			JsonNode receipt = stop.json();
			Instant requested = Instant.parse(receipt.get("requested_at").asString());
			Instant delivered = Instant.parse(receipt.get("delivered_at").asString());
			Instant closed = Instant.parse(receipt.get("upstream_closed_at").asString());
			Instant persisted = Instant.parse(receipt.get("persisted_at").asString());
			assertThat(requested).isBeforeOrEqualTo(delivered);
			assertThat(delivered).isBeforeOrEqualTo(closed);
			assertThat(closed).isBeforeOrEqualTo(persisted);
			assertThat(exchange.awaitServerDone(BOUND)).as("the upstream stopped generating").isTrue();
			int sentAfterRequest = exchange.tokensSentAfter(requested);
			after.add(sentAfterRequest);
			afterClose.add(exchange.tokensSentAfter(closed));
			long closedNanos = Duration.between(requested, closed).toNanos();
			closedMicros.add(closedNanos / 1000);
			// a stall of the shared machine between the request and the close lets the
			// upstream write on meanwhile (a chunk per 20 ms), counted by the receipt's
			// own times; beyond those, one chunk in flight at the close
			assertThat(sentAfterRequest).as("chunks beyond the time to close")
				.isLessThanOrEqualTo(2 + (int) (closedNanos / 20_000_000L));
			chat.drain(BOUND);
		}
		System.out.printf("[receipt] upstream tokens written after the stop was requested (10 stops, a chunk "
				+ "every 20 ms): %s, after the worker closed the upstream: %s; requested -> upstream closed µs: %s%n",
				after, afterClose, closedMicros);
		assertThat(afterClose).as("nothing beyond one in-flight chunk once the upstream is closed")
			.allSatisfy(count -> assertThat(count).isLessThanOrEqualTo(1));
		assertThat(after.stream().filter(count -> count <= 1).count())
			.as("at most one chunk after the request, but for a stall of the machine")
			.isGreaterThanOrEqualTo(8);
		assertThat(closedMicros.stream().sorted().toList().get(5)).as("median µs from the request to the close")
			.isLessThan(100_000L);
	}

	@Test
	void seenTokensCutsTheRecordedAnswerToWhatTheStoppingClientShowed() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		String id = "seen-" + UUID.randomUUID();
		ChatStream chat = alice.chatStream(id, LONG_RUN);
		await().atMost(BOUND).until(() -> alice.active().body().contains(id));
		try (StreamClient watcher = StreamClient.withHeader(cluster.gatewayUrl(1), id, alice.token())) {
			String shown = awaitTokens(watcher, 8);

			Response stop = alice.stop(id, Map.of("seen_tokens", 3));
			JsonNode event = watcher.nextOfType("run_stopped", BOUND);

			assertThat(stop.status()).isEqualTo(200);
			assertThat(stop.json().get("tokens_kept").asInt()).isEqualTo(3);
			String kept = alice.history(id).json().get("messages").get(1).get("content").asString();
			assertThat(kept).as("exactly the first three tokens").isEqualTo(firstTokens(shown, 3));
			assertThat(event.get("content").asString()).as("the watchers get the final text").isEqualTo(kept);
			assertThat(event.get("tokens").asInt()).isEqualTo(3);
		}
		chat.drain(BOUND);
	}

	/** Reads token events until {@code count} tokens arrived; returns their text. */
	private static String awaitTokens(StreamClient socket, int count) throws InterruptedException {
		StringBuilder text = new StringBuilder();
		int tokens = 0;
		while (tokens < count) {
			JsonNode event = socket.next(BOUND);
			assertThat(event).as("an event within %s", BOUND).isNotNull();
			if ("token".equals(event.get("type").asString())) {
				text.append(event.get("delta").asString());
				tokens += event.has("count") ? event.get("count").asInt() : 1;
			}
			else if ("run_snapshot".equals(event.get("type").asString())) {
				text.setLength(0);
				text.append(event.get("content").asString());
				tokens = event.get("tokens").asInt();
			}
		}
		return text.toString();
	}

	/**
	 * The simulated model's first {@code count} tokens: its tokens are words, each but
	 * the first with its leading space.
	 */
	private static String firstTokens(String text, int count) {
		int end = 0;
		for (int i = 0; i < count; i++) {
			int next = text.indexOf(' ', end + 1);
			end = next < 0 ? text.length() : next;
		}
		return text.substring(0, end);
	}

}
