package io.stopline.it;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.stopline.core.liveness.WorkerLiveness;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.run.RedisConversationRegistry;
import io.stopline.core.run.RunRecord;
import io.stopline.gateway.system.ControlConnector;
import io.stopline.protocol.HistoryMessage;
import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Response;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The gateway's control port ({@code stopline.gateway.connections.control-port}): a chat
 * streaming on the API port is listed and stopped through it (confirmed, recorded, the
 * stream ended), with the same authentication and ownership as the API port; anything but
 * stops, the listing and the probes is answered 404 there. Stops that wait for their
 * owners' answers hold none of its threads.
 */
class ControlPortIntegrationTests {

	private static final Duration BOUND = Duration.ofSeconds(30);

	@Test
	void stopsAndTheListingAreServedOnTheControlPortAndNothingElse() throws Exception {
		try (Cluster cluster = Cluster.start(TestRedis.shared(), 1, 1, Map.of(),
				Map.of("stopline.gateway.connections.control-port", "0"))) {
			int port = cluster.gateway(0).getBean(ControlConnector.class).port().orElseThrow();
			String controlUrl = "http://127.0.0.1:" + port;
			assertThat(controlUrl).isNotEqualTo(cluster.gatewayUrl(0));
			Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
			Api aliceControl = alice.at(controlUrl);
			Api bobControl = cluster.api(0, "bob-" + UUID.randomUUID()).at(controlUrl);
			String conversation = "c-" + UUID.randomUUID();

			ChatStream running = alice.chatStream(conversation, 5000);
			assertThat(running.next(BOUND)).isNotNull();
			await().atMost(BOUND)
				.until(() -> aliceControl.get("/v1/conversations/active")
					.json()
					.get("active_conversations")
					.has(conversation));

			assertThat(bobControl.stop(conversation).status()).as("another user's chat").isEqualTo(404);
			assertThat(Api.withToken(controlUrl, "not-a-token").stop(conversation).status()).isEqualTo(401);
			Response stopped = aliceControl.stop(conversation);
			assertThat(stopped.status()).as(stopped.body()).isEqualTo(200);
			assertThat(running.drain(BOUND)).isNotEmpty();
			JsonNode messages = alice.history(conversation).json().get("messages");
			assertThat(messages.get(1).get("status").asString()).isEqualTo("stopped");

			Response chat = aliceControl.post("/v1/chat/completions", Map.of("conversation_id", conversation,
					"messages", java.util.List.of(Map.of("role", "user", "content", "hi"))));
			assertThat(chat.status()).isEqualTo(404);
			assertThat(chat.contentType()).startsWith("application/problem+json");
			assertThat(aliceControl.get("/v1/conversation/" + conversation).status()).isEqualTo(404);
			assertThat(aliceControl.get("/readyz").status()).isEqualTo(200);
		}
	}

	/**
	 * A stop waits (up to {@code stop-confirm-timeout}) for its owner's answer without a
	 * request thread: with one control thread and four stops waiting for an owner that
	 * never answers (alive, not subscribed), the listing on the same port is answered
	 * while all four still wait, and each stop then answers 202.
	 */
	@Test
	void stopsWaitingForTheirOwnersHoldNoControlThread() throws Exception {
		try (RedisInspector inspector = new RedisInspector(TestRedis.shared());
				Cluster cluster = Cluster.start(TestRedis.shared(), 1, 0, Map.of(),
						Map.of("stopline.gateway.connections.control-port", "0",
								"stopline.gateway.connections.control-threads", "1",
								"stopline.gateway.stop-confirm-timeout", "5s"))) {
			String controlUrl = "http://127.0.0.1" + ":"
					+ cluster.gateway(0).getBean(ControlConnector.class).port().orElseThrow();
			String user = "alice-" + UUID.randomUUID();
			Api alice = cluster.api(0, user).at(controlUrl);
			ConversationRegistry registry = new RedisConversationRegistry(inspector.template());
			String worker = "silent-" + UUID.randomUUID();
			// alive for the whole test, so no reaper ends its runs; subscribed to
			// nothing,
			// so no stop is ever answered
			new WorkerLiveness(inspector.template()).heartbeat(worker, Duration.ofMinutes(2));
			List<String> conversations = new ArrayList<>();
			for (int i = 0; i < 4; i++) {
				RunRecord queued = RunRecord.queued("r-" + UUID.randomUUID(), user, "c-" + UUID.randomUUID(),
						"assistant", "g-" + UUID.randomUUID(), Instant.now());
				registry.reserve(queued, HistoryMessage.user("hi", queued.runId(), Instant.now()), 10);
				registry.claim(queued, worker, Instant.now()).orElseThrow();
				conversations.add(queued.conversationId());
			}

			HttpClient http = HttpClient.newHttpClient();
			List<CompletableFuture<HttpResponse<String>>> stops = new ArrayList<>();
			for (String conversation : conversations) {
				stops.add(http.sendAsync(
						HttpRequest.newBuilder(URI.create(controlUrl + "/v1/conversation/" + conversation + "/stop"))
							.header("Authorization", "Bearer " + alice.token())
							.POST(HttpRequest.BodyPublishers.noBody())
							.build(),
						HttpResponse.BodyHandlers.ofString()));
			}
			// every stop has reached its wait: the gateway recorded each request for the
			// silent owner
			await().atMost(BOUND)
				.until(() -> inspector.template().opsForZSet().size(io.stopline.core.schema.Keys.workerStops(worker)),
						count -> count != null && count == conversations.size());

			Api.Response listing = alice.get("/v1/conversations/active");
			assertThat(listing.status()).isEqualTo(200);
			assertThat(stops).as("stops still waiting for the owner when the listing answered")
				.noneMatch(CompletableFuture::isDone);
			for (CompletableFuture<HttpResponse<String>> stop : stops) {
				HttpResponse<String> answer = stop.get(BOUND.toSeconds(), TimeUnit.SECONDS);
				assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
			}
		}
	}

}
