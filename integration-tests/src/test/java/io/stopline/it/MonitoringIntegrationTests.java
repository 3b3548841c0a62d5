package io.stopline.it;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Metrics, cluster-wide statistics and health move as runs are stopped and completed
 * across two workers, and both gateways report the same statistics.
 */
class MonitoringIntegrationTests {

	private static final Duration BOUND = Duration.ofSeconds(20);

	// admins are dev tokens with a role: allowed explicitly
	@RegisterExtension
	static final Cluster cluster = Cluster.onOwnRedis(2, 2, Map.of("stopline.worker.max-concurrent-runs", "2"),
			Map.of("stopline.auth.dev-tokens.allow-roles", "true"));

	@Test
	void threeStopsAndTwoCompletionsAcrossTwoWorkersShowEverywhere() throws Exception {
		Instant from = Instant.now().minus(2, ChronoUnit.HOURS);
		// the earlier tests' counts in before they are taken as the baseline
		cluster.flushStats();
		JsonNode before = Api.forAdmin(cluster.gatewayUrl(0), "ops")
			.get("/v1/stats/stops?from=" + from + "&granularity=day")
			.json()
			.get("total");
		double confirmedBefore = confirmedStops();
		double stoppedBefore = workerRunsEnded("stopped");
		double completedBefore = workerRunsEnded("completed");
		double propagatedBefore = propagated();
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

		// each node adds its counts to Redis within a second
		JsonNode[] totals = new JsonNode[2];
		await().atMost(BOUND).untilAsserted(() -> {
			for (int gateway = 0; gateway < 2; gateway++) {
				Api admin = Api.forAdmin(cluster.gatewayUrl(gateway), "ops");
				JsonNode stats = admin.get("/v1/stats/stops?from=" + from + "&granularity=day").json();
				totals[gateway] = stats.get("total");
			}
			assertThat(totals[1].toString()).isEqualTo(
					totals[0].toString().replace(totals[0].get("start").asString(), totals[1].get("start").asString()));
			// deltas: other tests of this class may have stopped runs in the same Redis
			// before this one
			assertThat(delta(before, totals[0], "stops")).isEqualTo(3);
			assertThat(delta(before, totals[0], "confirmed")).isEqualTo(3);
			assertThat(delta(before, totals[0], "runs_ended")).isEqualTo(5);
		});
		JsonNode total = totals[0];
		assertThat(delta(before, total, "requested") + delta(before, total, "errors")).isZero();
		assertThat(delta(before, total, "runs_completed")).isEqualTo(2);
		assertThat(delta(before, total, "runs_stopped")).isEqualTo(3);
		assertThat(delta(before, total, "runs_stopped_by_user")).isEqualTo(3);
		assertThat((double) delta(before, total, "runs_stopped_by_user") / delta(before, total, "runs_ended"))
			.isEqualTo(0.6);
		assertThat(total.get("avg_seconds_before_stop").asDouble()).isPositive();
		assertThat(total.get("p95_seconds_before_stop").asDouble()).isPositive();
		System.out.println("[stats] " + total);

		assertThat(confirmedStops() - confirmedBefore).isEqualTo(3);
		assertThat(workerRunsEnded("stopped") - stoppedBefore).isEqualTo(3);
		assertThat(workerRunsEnded("completed") - completedBefore).isEqualTo(2);
		assertThat(propagated() - propagatedBefore).isEqualTo(3);
		assertThat(
				metric(cluster.gatewayManagementUrl(0), "stopline_stop_latency_seconds_count", "endpoint=\"single\""))
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
		Api management = Api.withToken(cluster.gatewayManagementUrl(0), null);
		JsonNode gateway = management.get("/actuator/health/readiness").json();
		assertThat(gateway.get("status").asString()).isEqualTo("UP");
		assertThat(management.get("/actuator/health/liveness").status()).isEqualTo(200);
	}

	@Test
	void aGatewaysActuatorIsOnItsManagementPortAndOnlyTheProbesOnTheApiPort() {
		Api api = Api.withToken(cluster.gatewayUrl(0), null);
		Api management = Api.withToken(cluster.gatewayManagementUrl(0), null);
		assertThat(cluster.gatewayManagementUrl(0)).isNotEqualTo(cluster.gatewayUrl(0));
		assertThat(management.get("/actuator/prometheus").body()).contains("stopline_stop_requests_total");
		for (String path : List.of("/actuator/prometheus", "/actuator/health", "/actuator/health/readiness",
				"/actuator/info", "/actuator")) {
			assertThat(api.get(path).status()).as("%s on the API port", path).isEqualTo(404);
		}
		// for orchestrators and load balancers that reach only the API port: status, no
		// details
		Api.Response ready = api.get("/readyz");
		assertThat(ready.status()).isEqualTo(200);
		assertThat(ready.json().get("status").asString()).isEqualTo("UP");
		assertThat(ready.json().has("components")).as("no details on the API port").isFalse();
		assertThat(api.get("/livez").status()).isEqualTo(200);
	}

	@Test
	void everyStopIsAuditedAndAdminsCanReadTheTrail() {
		Api erin = cluster.api(0, "erin-" + UUID.randomUUID());
		String id = "audited-" + UUID.randomUUID();
		erin.chatStream(id, 5000);
		await().atMost(BOUND).until(() -> erin.active().json().get("active_conversations").has(id));
		String runId = erin.active().json().get("active_conversations").get(id).get("run_id").asString();
		assertThat(erin.at(cluster.gatewayUrl(1)).stop(id).status()).isEqualTo(200);
		assertThat(erin.stop("never-" + id).status()).isEqualTo(404);

		Api admin = Api.forAdmin(cluster.gatewayUrl(1), "ops");
		// written after the stops were answered
		await().atMost(BOUND)
			.until(() -> admin.get("/v1/admin/audit/stops?user=" + erin.userId()).json().get("stops").size() == 2);
		JsonNode stops = admin.get("/v1/admin/audit/stops?user=" + erin.userId()).json().get("stops");

		assertThat(stops).hasSize(2);
		// two gateways write their audit lines asynchronously: the trail's order between
		// them is the order Redis took the writes, not the order the stops were answered
		JsonNode missed = stops.get(0).get("outcome").asString().equals("not_found") ? stops.get(0) : stops.get(1);
		JsonNode confirmed = missed == stops.get(0) ? stops.get(1) : stops.get(0);
		assertThat(missed.get("outcome").asString()).isEqualTo("not_found");
		assertThat(confirmed.get("outcome").asString()).isEqualTo("confirmed");
		assertThat(confirmed.get("by").asString()).isEqualTo(erin.userId());
		assertThat(confirmed.get("conversation").asString()).isEqualTo(id);
		assertThat(confirmed.get("run").asString()).isEqualTo(runId);
		assertThat(confirmed.get("reason").asString()).isEqualTo("user");
		assertThat(confirmed.get("latency_micros").asLong()).isPositive();
		assertThat(erin.get("/v1/admin/audit/stops").status()).isEqualTo(403);
		assertThat(admin.get("/v1/admin/audit/stops?limit=0").status()).isEqualTo(400);
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

	private static double confirmedStops() {
		return metric(cluster.gatewayManagementUrl(0), "stopline_stop_requests_total", "outcome=\"confirmed\"")
				+ metric(cluster.gatewayManagementUrl(1), "stopline_stop_requests_total", "outcome=\"confirmed\"");
	}

	private static double workerRunsEnded(String outcome) {
		return metric(cluster.workerUrl(0), "stopline_runs_ended_total", "outcome=\"" + outcome + "\"")
				+ metric(cluster.workerUrl(1), "stopline_runs_ended_total", "outcome=\"" + outcome + "\"");
	}

	private static double propagated() {
		return metric(cluster.workerUrl(0), "stopline_stop_propagation_seconds_count", "stage=\"cancelled\"")
				+ metric(cluster.workerUrl(1), "stopline_stop_propagation_seconds_count", "stage=\"cancelled\"");
	}

	private static long delta(JsonNode before, JsonNode after, String field) {
		return after.get(field).asLong() - before.get(field).asLong();
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
