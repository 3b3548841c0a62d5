package io.stopline.it;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Metrics, cluster-wide statistics and health move as runs are stopped and completed
 * across two workers, and both gateways report the same statistics.
 */
class MonitoringIntegrationTests {

	private static final Duration BOUND = Duration.ofSeconds(20);

	private static TestRedis redis;

	private static Cluster cluster;

	@BeforeAll
	static void start() {
		redis = TestRedis.dedicatedProcess();
		cluster = Cluster.start(redis, 2, 2, Map.of("stopline.worker.max-concurrent-runs", "2"));
	}

	@AfterAll
	static void stop() {
		if (cluster != null) {
			cluster.close();
		}
		if (redis != null) {
			redis.close();
		}
	}

	@Test
	void threeStopsAndTwoCompletionsAcrossTwoWorkersShowEverywhere() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		String[] stopped = { "s1-" + UUID.randomUUID(), "s2-" + UUID.randomUUID(), "s3-" + UUID.randomUUID() };
		for (String id : stopped) {
			alice.chatStream(id, 5000);
		}
		await().atMost(BOUND).until(() -> cluster.tasks(0).size() + cluster.tasks(1).size() == 3);
		assertThat(cluster.tasks(0).size()).isPositive();
		assertThat(cluster.tasks(1).size()).isPositive();
		for (int i = 0; i < stopped.length; i++) {
			assertThat(alice.at(cluster.gatewayUrl(i % 2)).stop(stopped[i]).status()).isEqualTo(200);
		}
		for (int i = 0; i < 2; i++) {
			alice.chatStream("c" + i + "-" + UUID.randomUUID(), 3).drain(BOUND);
		}

		Instant from = Instant.now().minus(2, ChronoUnit.HOURS);
		JsonNode[] totals = new JsonNode[2];
		for (int gateway = 0; gateway < 2; gateway++) {
			Api admin = Api.forAdmin(cluster.gatewayUrl(gateway), "ops");
			JsonNode stats = admin.get("/v1/stats/stops?from=" + from + "&granularity=day").json();
			totals[gateway] = stats.get("total");
		}
		JsonNode total = totals[0];
		assertThat(totals[1].toString())
			.isEqualTo(total.toString().replace(totals[0].get("start").asString(), totals[1].get("start").asString()));
		assertThat(total.get("stops").asLong()).isEqualTo(3);
		assertThat(total.get("confirmed").asLong()).isEqualTo(3);
		assertThat(total.get("success_rate").asDouble()).isEqualTo(1.0);
		assertThat(total.get("failure_rate").asDouble()).isEqualTo(0.0);
		assertThat(total.get("runs_ended").asLong()).isEqualTo(5);
		assertThat(total.get("runs_completed").asLong()).isEqualTo(2);
		assertThat(total.get("runs_stopped").asLong()).isEqualTo(3);
		assertThat(total.get("runs_stopped_by_user").asLong()).isEqualTo(3);
		assertThat(total.get("stopped_by_user_share").asDouble()).isEqualTo(0.6);
		assertThat(total.get("avg_seconds_before_stop").asDouble()).isPositive();
		assertThat(total.get("p95_seconds_before_stop").asDouble()).isPositive();
		System.out.println("[stats] " + total);

		assertThat(metric(cluster.gatewayUrl(0), "stopline_stop_requests_total", "outcome=\"confirmed\"")
				+ metric(cluster.gatewayUrl(1), "stopline_stop_requests_total", "outcome=\"confirmed\""))
			.isEqualTo(3);
		assertThat(metric(cluster.workerUrl(0), "stopline_runs_ended_total", "outcome=\"stopped\"")
				+ metric(cluster.workerUrl(1), "stopline_runs_ended_total", "outcome=\"stopped\""))
			.isEqualTo(3);
		assertThat(metric(cluster.workerUrl(0), "stopline_runs_ended_total", "outcome=\"completed\"")
				+ metric(cluster.workerUrl(1), "stopline_runs_ended_total", "outcome=\"completed\""))
			.isEqualTo(2);
		assertThat(metric(cluster.workerUrl(0), "stopline_stop_propagation_seconds_count", "stage=\"cancelled\"")
				+ metric(cluster.workerUrl(1), "stopline_stop_propagation_seconds_count", "stage=\"cancelled\""))
			.isEqualTo(3);
		assertThat(metric(cluster.gatewayUrl(0), "stopline_stop_latency_seconds_count", "endpoint=\"single\""))
			.isPositive();
	}

	@Test
	void healthHasReadinessGroupsThatCoverStopsAndHeartbeat() {
		Api anonymous = Api.withToken(cluster.workerUrl(0), null);
		JsonNode worker = anonymous.get("/actuator/health/readiness").json();
		assertThat(worker.get("status").asString()).isEqualTo("UP");
		assertThat(worker.get("components").has("stopSubscription")).isTrue();
		assertThat(worker.get("components").has("heartbeat")).isTrue();
		assertThat(worker.get("components").has("redis")).isTrue();
		JsonNode gateway = Api.withToken(cluster.gatewayUrl(0), null).get("/actuator/health/readiness").json();
		assertThat(gateway.get("status").asString()).isEqualTo("UP");
		assertThat(Api.withToken(cluster.gatewayUrl(0), null).get("/actuator/health/liveness").status()).isEqualTo(200);
	}

	@Test
	void statisticsAreForAdminsOnly() {
		Api alice = cluster.api(1, "alice-" + UUID.randomUUID());
		assertThat(alice.get("/v1/stats/stops").status()).isEqualTo(403);
		assertThat(alice.get("/v1/stats/stops").contentType()).startsWith("application/problem+json");
		Api admin = Api.forAdmin(cluster.gatewayUrl(1), "ops");
		assertThat(admin.get("/v1/stats/stops?granularity=week").status()).isEqualTo(400);
		assertThat(admin.get("/v1/stats/stops").status()).isEqualTo(200);
	}

	/**
	 * Sum of a Prometheus series' values on one node, over the lines that carry the
	 * label.
	 */
	private static double metric(String nodeUrl, String name, String label) {
		String body = Api.withToken(nodeUrl, null).get("/actuator/prometheus").body();
		Matcher lines = Pattern.compile("^" + name + "\\{([^}]*)\\} ([0-9.eE+-]+)$", Pattern.MULTILINE).matcher(body);
		double sum = 0;
		while (lines.find()) {
			if (lines.group(1).contains(label)) {
				sum += Double.parseDouble(lines.group(2));
			}
		}
		return sum;
	}

}
