package io.stopline.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;

import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Response;
import io.stopline.core.ops.StopAudit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What one client can take from a gateway is bounded: streams never take the last
 * connections (a stop still gets through when the gateway is full of them), a bulk stop
 * pays one rate-limit permit per id and writes audit entries only for the runs it
 * stopped, and a conversation's history keeps at most {@code max-messages}.
 */
class GatewayBoundsIntegrationTests {

	private static final Duration BOUND = Duration.ofSeconds(15);

	@RegisterExtension
	static final Cluster cluster = Cluster.onSharedRedis(1, 1, Map.of(),
			Map.of("server.tomcat.max-connections", "12", "stopline.gateway.connections.stream-reserve", "4",
					"stopline.gateway.max-streams-per-user", "100", "stopline.gateway.stop-rate-limit.permits", "10",
					"stopline.gateway.stop-rate-limit.interval", "60s", "stopline.history.max-messages", "6"));

	@Test
	void aGatewayFullOfStreamsStillTakesAStop() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		String running = "full-" + UUID.randomUUID();
		ChatStream run = alice.chatStream(running, 5000);
		await().atMost(BOUND).until(() -> alice.active().json().get("active_conversations").has(running));
		List<StreamClient> sockets = new ArrayList<>();
		int refusedAt = -1;
		try {
			for (int i = 0; i < 12 && refusedAt < 0; i++) {
				try {
					sockets.add(StreamClient.withHeader(cluster.gatewayUrl(0), running, alice.token()));
				}
				catch (RuntimeException refused) {
					assertThat(refused).hasStackTraceContaining("503");
					refusedAt = i;
				}
			}
			// a chat on a new connection: refused as well (a refused request's connection
			// is closed, so each attempt is measured against the same count)
			String chat = rawChat(cluster.gatewayUrl(0), alice.token());
			long started = System.nanoTime();
			Response stop = alice.stop(running);
			long stopMillis = (System.nanoTime() - started) / 1_000_000;
			System.out.printf(
					"[bounds] max-connections 12, reserve 4: %d WebSockets open, the next refused; a chat "
							+ "on a new connection then answered %s; a stop %d in %d ms%n",
					sockets.size(), chat.lines().findFirst().orElse(""), stop.status(), stopMillis);

			assertThat(refusedAt).as("a WebSocket beyond the streams' share is refused").isPositive();
			assertThat(chat).startsWith("HTTP/1.1 503")
				.containsIgnoringCase("Retry-After: ")
				.containsIgnoringCase("Content-Type: application/problem+json");
			assertThat(stop.status()).isEqualTo(200);
			assertThat(stopMillis).isLessThan(2_000);
		}
		finally {
			sockets.forEach(StreamClient::close);
		}
		run.drain(BOUND);
	}

	/** A chat request on a connection of its own; the raw answer's head. */
	private static String rawChat(String gatewayUrl, String token) throws java.io.IOException {
		java.net.URI uri = java.net.URI.create(gatewayUrl);
		String body = "{\"model\":\"assistant\",\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
		try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
			socket.setSoTimeout(10_000);
			String request = "POST /v1/chat/completions HTTP/1.1\r\nHost: " + uri.getHost()
					+ "\r\nAuthorization: Bearer " + token + "\r\nContent-Type: application/json\r\nContent-Length: "
					+ body.length() + "\r\nConnection: close\r\n\r\n" + body;
			socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.UTF_8));
			return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
		}
	}

	@Test
	void aBulkStopPaysOnePermitPerIdAndAuditsOnlyWhatItStopped() throws Exception {
		Api bob = cluster.api(0, "bob-" + UUID.randomUUID());
		String running = "bulk-" + UUID.randomUUID();
		ChatStream run = bob.chatStream(running, 5000);
		await().atMost(BOUND).until(() -> bob.active().json().get("active_conversations").has(running));
		List<String> ids = new ArrayList<>(IntStream.range(0, 30).mapToObj(i -> "unknown-" + i).toList());
		ids.add(running);

		Response bulk = bob.stopOnly(ids);
		Response next = bob.stop("anything");

		assertThat(bulk.status()).as("granted while the bucket holds a permit").isEqualTo(200);
		assertThat(bulk.json().get("stopped").get(0).asString()).isEqualTo(running);
		assertThat(bulk.json().get("not_active")).hasSize(30);
		assertThat(next.status()).as("the 31 permits put the user in debt").isEqualTo(429);
		run.drain(BOUND);
		await().atMost(BOUND)
			.untilAsserted(() -> assertThat(new StopAudit(cluster.redis(0)).read(bob.userId(), null, 100))
				.as("one audit entry: the run it stopped, not the 30 unknown ids")
				.extracting(StopAudit.Entry::conversation)
				.containsExactly(running));
	}

	@Test
	void aConversationKeepsItsFirstAndNewestMessages() throws Exception {
		Api carol = cluster.api(0, "carol-" + UUID.randomUUID());
		String conversation = "long-" + UUID.randomUUID();
		for (int turn = 0; turn < 6; turn++) {
			assertThat(carol.chat(conversation, 2).status()).isEqualTo(200);
		}
		JsonNode messages = carol.history(conversation).json().get("messages");
		System.out.printf("[bounds] 6 turns with max-messages 6: %d messages kept%n", messages.size());
		assertThat(messages.size()).isBetween(6, 8);
		assertThat(messages.get(0).get("role").asString()).isEqualTo("user");
		assertThat(messages.get(messages.size() - 1).get("role").asString()).isEqualTo("assistant");
	}

}
