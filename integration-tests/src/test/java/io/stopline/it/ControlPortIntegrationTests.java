package io.stopline.it;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import io.stopline.core.threads.ControlThreads;
import io.stopline.gateway.system.ControlConnector;
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
 * stops, the listing and the probes is answered 404 there.
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
			// the control port's request threads run above the streams' for a core
			// (ControlThreads); the API port's are virtual
			assertThat(Thread.getAllStackTraces().keySet()).filteredOn(
					thread -> thread.getName().contains("-exec-") && thread.getPriority() == ControlThreads.PRIORITY)
				.isNotEmpty();
		}
	}

}
