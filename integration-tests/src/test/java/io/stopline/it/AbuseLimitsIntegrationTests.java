package io.stopline.it;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Per-user limits hold across gateways because they live in Redis: stop rate and
 * concurrent runs.
 */
class AbuseLimitsIntegrationTests {

	private static final Duration BOUND = Duration.ofSeconds(10);

	@RegisterExtension
	static final Cluster cluster = Cluster.onSharedRedis(2, 1, Map.of(),
			Map.of("stopline.gateway.max-active-runs-per-user", "2", "stopline.gateway.stop-rate-limit.permits", "5",
					"stopline.gateway.stop-rate-limit.interval", "60s"));

	@Test
	void stopRequestsAreRateLimitedPerUserAcrossGateways() {
		Api bob = cluster.api(0, "bob-" + UUID.randomUUID());
		Map<Integer, Integer> statuses = new TreeMap<>();
		Response limited = null;
		for (int i = 0; i < 12; i++) {
			Response response = bob.at(cluster.gatewayUrl(i % 2)).stop("nothing-" + i);
			statuses.merge(response.status(), 1, Integer::sum);
			if (response.status() == 429) {
				limited = response;
			}
		}

		assertThat(statuses).isEqualTo(Map.of(404, 5, 429, 7));
		assertThat(limited.contentType()).startsWith("application/problem+json");
		assertThat(limited.json().get("status").asInt()).isEqualTo(429);
		assertThat(limited.retryAfter()).isNotNull();
		Api carol = cluster.api(1, "carol-" + UUID.randomUUID());
		assertThat(carol.stop("nothing").status()).as("another user is not limited").isEqualTo(404);
	}

	@Test
	void aUserCannotRunMoreThanTheCapUntilOneEnds() throws Exception {
		Api dave = cluster.api(0, "dave-" + UUID.randomUUID());
		String first = "cap-1-" + UUID.randomUUID();
		ChatStream one = dave.chatStream(first, 5000);
		ChatStream two = dave.chatStream("cap-2-" + UUID.randomUUID(), 5000);
		await().atMost(BOUND).until(() -> dave.active().json().get("active_conversations").size() == 2);

		Response third = dave.at(cluster.gatewayUrl(1)).chat("cap-3-" + UUID.randomUUID(), 5);

		assertThat(third.status()).isEqualTo(429);
		assertThat(third.contentType()).startsWith("application/problem+json");
		assertThat(third.retryAfter()).isNotNull();
		assertThat(dave.stop(first).status()).isEqualTo(200);
		one.drain(BOUND);
		assertThat(dave.at(cluster.gatewayUrl(1)).chat("cap-4-" + UUID.randomUUID(), 3).status()).isEqualTo(200);
		assertThat(dave.stopAll().status()).isEqualTo(200);
		two.drain(BOUND);
	}

}
