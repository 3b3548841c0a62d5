package io.stopline.it;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.stopline.core.schema.Keys;
import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Response;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.data.domain.Range;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A reservation Redis lost before any worker took it (issue 16: a Sentinel failover keeps
 * the old master writable until the sentinels demote it, and what a node writes there in
 * its last moments is dropped with it): the record, the user's message, the
 * conversation's generation, the queued entry and the job are gone, while the client
 * still waits. The gateway reserves and queues the request again after
 * {@code reserve-again-after}, through the same fenced script, so the client gets its
 * answer instead of "The run was lost." after {@code lost-run-grace}, and the history
 * holds it once.
 */
class LostReservationIntegrationTests {

	private static final Duration BOUND = Duration.ofSeconds(30);

	private static final Map<String, String> GATEWAY = Map.of("stopline.gateway.reserve-again-after", "2s",
			"stopline.gateway.lost-run-grace", "6s");

	@Test
	void aRequestWhoseReservationVanishedIsReservedAgainAndAnswered() throws Exception {
		try (TestRedis redis = TestRedis.dedicatedProcess();
				Cluster cluster = Cluster.start(redis, 1, 0, Map.of(), GATEWAY);
				var clients = Executors.newVirtualThreadPerTaskExecutor()) {
			String user = "alice-" + UUID.randomUUID();
			Api alice = cluster.api(0, user);
			String conversation = "c-" + UUID.randomUUID();
			long sent = System.nanoTime();
			// no worker yet: the run waits, queued with its job
			CompletableFuture<Response> answer = CompletableFuture.supplyAsync(() -> alice.chat(conversation, 3),
					clients);
			String runId = awaitQueued(cluster.redis(0), user, conversation);
			loseReservation(cluster.redis(0), user, conversation, runId);
			cluster.addWorker("worker-late-" + System.nanoTime(), Map.of());

			Response response = answer.get(BOUND.toSeconds(), TimeUnit.SECONDS);
			long tookMs = (System.nanoTime() - sent) / 1_000_000;
			System.out.printf("[lost-reservation] answered %d after %d ms%n", response.status(), tookMs);
			// 200, not 502 "The run was lost." after lost-run-grace
			assertThat(response.status()).as(response.body()).isEqualTo(200);
			JsonNode messages = alice.history(conversation).json().get("messages");
			assertThat(runMessages(messages, runId, "user")).as("the user's message, once").isEqualTo(1);
			assertThat(runMessages(messages, runId, "assistant")).as("its answer, once").isEqualTo(1);
		}
	}

	@Test
	void aConversationThatTookAnotherRunMeanwhileRefusesTheLostOne() throws Exception {
		try (TestRedis redis = TestRedis.dedicatedProcess();
				Cluster cluster = Cluster.start(redis, 1, 0, Map.of(), GATEWAY);
				var clients = Executors.newVirtualThreadPerTaskExecutor()) {
			String user = "alice-" + UUID.randomUUID();
			Api alice = cluster.api(0, user);
			String conversation = "c-" + UUID.randomUUID();
			CompletableFuture<Response> answer = CompletableFuture.supplyAsync(() -> alice.chat(conversation, 3),
					clients);
			String lost = awaitQueued(cluster.redis(0), user, conversation);
			loseReservation(cluster.redis(0), user, conversation, lost);
			// another message takes the conversation before the gateway would reserve the
			// lost one again
			ChatStream other = alice.chatStream(conversation, 5000);
			await().atMost(BOUND).until(() -> !lost.equals(awaitQueued(cluster.redis(0), user, conversation)));
			cluster.addWorker("worker-late-" + System.nanoTime(), Map.of());
			assertThat(other.next(BOUND)).isNotNull().doesNotStartWith("error");

			Response response = answer.get(BOUND.toSeconds(), TimeUnit.SECONDS);
			assertThat(response.status()).as(response.body()).isEqualTo(502);
			assertThat(response.body()).contains("The run was lost.");
			assertThat(alice.stop(conversation).status()).isEqualTo(200);
			other.drain(BOUND);
			JsonNode messages = alice.history(conversation).json().get("messages");
			assertThat(runMessages(messages, lost, "user") + runMessages(messages, lost, "assistant"))
				.as("nothing of the lost run is kept")
				.isZero();
		}
	}

	/** The run id of the conversation's queued record, once it is there. */
	private static String awaitQueued(StringRedisTemplate redis, String user, String conversation) {
		await().atMost(BOUND).until(() -> redis.opsForHash().get(Keys.runs(user), conversation) != null);
		Object record = redis.opsForHash().get(Keys.runs(user), conversation);
		return Api.JSON.readTree((String) record).get("run").asString();
	}

	/**
	 * What a failover that dropped the reservation's writes leaves: none of them (the
	 * reservation script writes them all in one step).
	 */
	private static void loseReservation(StringRedisTemplate redis, String user, String conversation, String runId) {
		redis.opsForHash().delete(Keys.runs(user), conversation);
		redis.opsForHash().delete(Keys.lastRuns(user), conversation);
		redis.delete(Keys.messages(user, conversation));
		var queued = redis.opsForZSet().range(Keys.QUEUED, 0, -1);
		if (queued != null) {
			queued.stream()
				.filter(entry -> entry.contains(runId))
				.forEach(entry -> redis.opsForZSet().remove(Keys.QUEUED, entry));
		}
		List<org.springframework.data.redis.connection.stream.MapRecord<String, Object, Object>> jobs = redis
			.opsForStream()
			.range(Keys.JOBS, Range.unbounded());
		assertThat(jobs).as("the run's job was queued").anyMatch(job -> job.getValue().toString().contains(runId));
		jobs.stream()
			.filter(job -> job.getValue().toString().contains(runId))
			.forEach(job -> redis.opsForStream().delete(Keys.JOBS, job.getId()));
	}

	private static long runMessages(JsonNode messages, String runId, String role) {
		long count = 0;
		for (JsonNode message : messages) {
			if (runId.equals(message.path("run_id").asString(null)) && role.equals(message.get("role").asString())) {
				count++;
			}
		}
		return count;
	}

}
