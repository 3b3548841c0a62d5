package io.stopline.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Response;
import io.stopline.core.schema.Keys;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Resumable chat streams on two gateways and two workers: every SSE event carries
 * {@code id: <run>:<index>}; a client cut off mid-stream resumes on the other gateway
 * with {@code Last-Event-ID} and ends with exactly the recorded answer, nothing missing,
 * nothing twice; a run that ended replays to its end within the grace and is gone after
 * it; bad indexes, unknown runs and other users' runs are problem details.
 */
class ResumableStreamIntegrationTests {

	private static final Duration BOUND = Duration.ofSeconds(15);

	/** Short, so that the test sees a replay expire. */
	private static final Duration GRACE = Duration.ofSeconds(8);

	@RegisterExtension
	static final Cluster cluster = Cluster.onSharedRedis(2, 2, Map.of("stopline.resume.grace", GRACE.toMillis() + "ms"),
			Map.of("stopline.resume.grace", GRACE.toMillis() + "ms"));

	private static RedisInspector redis;

	private final List<Api> users = new ArrayList<>();

	@BeforeAll
	static void inspectRedis() {
		redis = new RedisInspector(TestRedis.shared());
	}

	@AfterAll
	static void closeInspector() {
		if (redis != null) {
			redis.close();
		}
	}

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
	void aStreamCutMidwayResumesOnTheOtherGatewayWithNothingMissingAndNothingTwice() throws Exception {
		Api alice = user(0);
		String conversation = "c-" + UUID.randomUUID();
		// 150 tokens at 20 ms: three seconds of streaming, cut three times
		ChatStream stream = alice.chatStream(conversation, 150);
		Received received = new Received();
		String runId = null;
		for (int cut = 0; cut < 3; cut++) {
			if (!received.readTokens(stream, 10 + cut * 5)) {
				break;
			}
			runId = received.runId();
			stream.disconnect();
			Api there = alice.at(cluster.gatewayUrl((cut + 1) % 2));
			received.resumedAt = System.nanoTime();
			stream = there.resumeStream(conversation, runId, received.lastId);
		}
		assertThat(runId).as("the run was cut before it ended").isNotNull();
		received.readToEnd(stream);
		assertThat(received.finishReason).isEqualTo("stop");

		String recorded = answer(alice, conversation);
		assertThat(received.text.toString()).as("the text the client holds is the recorded answer").isEqualTo(recorded);
		assertThat(received.duplicates).as("events delivered twice").isZero();
		System.out.printf(
				"[resume] 3 cuts, %d characters, %d tokens, %d events: equal to the recorded answer; "
						+ "resume request to the missed text (snapshot, other gateway): %s ms%n",
				recorded.length(), received.index, received.events, received.catchUpMillis);
	}

	@Test
	void aStoppedRunResumesToExactlyItsPartialAnswer() throws Exception {
		Api alice = user(0);
		String conversation = "c-" + UUID.randomUUID();
		ChatStream stream = alice.chatStream(conversation, 5000);
		Received received = new Received();
		assertThat(received.readTokens(stream, 8)).isTrue();
		stream.disconnect();
		assertThat(alice.at(cluster.gatewayUrl(1)).stop(conversation).status()).isEqualTo(200);

		ChatStream resumed = alice.at(cluster.gatewayUrl(1))
			.resumeStream(conversation, received.runId(), received.lastId);
		received.readToEnd(resumed);
		assertThat(received.finishReason).isEqualTo("cancelled");
		assertThat(received.text.toString()).isEqualTo(answer(alice, conversation));
		assertThat(received.duplicates).isZero();
	}

	@Test
	void anEndedRunReplaysToItsEndFromAnyIndexUntilTheGraceRunsOut() throws Exception {
		Api alice = user(0);
		String conversation = "c-" + UUID.randomUUID();
		ChatStream stream = alice.chatStream(conversation, 30);
		Received whole = new Received();
		whole.readToEnd(stream);
		String recorded = answer(alice, conversation);
		assertThat(whole.text.toString()).isEqualTo(recorded);
		String runId = whole.runId();
		Api there = alice.at(cluster.gatewayUrl(1));
		// the grace runs from the end: checked now, before the replays below
		String key = Keys.runReplay(alice.userId(), conversation, runId);
		assertThat(redis.template().getExpire(key, TimeUnit.MILLISECONDS)).isBetween(1L, GRACE.toMillis());
		System.out.printf("[resume] replay of a %d-token answer (%d characters): %d bytes in Redis for the grace%n",
				whole.index, recorded.length(), redis.template().opsForValue().size(key));

		// from the start: the whole answer
		Received fromStart = new Received();
		fromStart.readToEnd(there.resumeStream(conversation, runId, null));
		assertThat(fromStart.text.toString()).isEqualTo(recorded);
		// after every id the original stream had: exactly the rest
		for (String id : whole.deltaIds) {
			Received rest = new Received();
			rest.index = Integer.parseInt(id.substring(id.lastIndexOf(':') + 1));
			rest.readToEnd(there.resumeStream(conversation, runId, id));
			assertThat(whole.textThrough(id) + rest.text).as("resumed after %s", id).isEqualTo(recorded);
			assertThat(rest.duplicates).isZero();
		}
		// after its last event: nothing more than the end
		Received atEnd = new Received();
		atEnd.index = whole.index;
		atEnd.readToEnd(there.resumeStream(conversation, runId, whole.lastId));
		assertThat(atEnd.text.toString()).isEmpty();
		assertThat(atEnd.finishReason).isEqualTo("stop");
		// ?starting_after works like the header
		Response query = alice.get("/v1/conversation/" + conversation + "/runs/" + runId + "/stream?starting_after=0");
		assertThat(query.status()).isEqualTo(200);
		assertThat(query.body()).contains("data: [DONE]");

		// the replay is bounded: gone from Redis after the grace, and the run with it
		await().atMost(GRACE.plus(BOUND)).until(() -> !redis.template().hasKey(key));
		Response gone = there.get("/v1/conversation/" + conversation + "/runs/" + runId + "/stream");
		assertThat(gone.status()).isEqualTo(404);
		assertThat(gone.contentType()).startsWith("application/problem+json");
	}

	@Test
	void badIndexesUnknownRunsAndOtherUsersRunsAreProblemDetails() throws Exception {
		Api alice = user(0);
		Api bob = user(1);
		String conversation = "c-" + UUID.randomUUID();
		ChatStream stream = alice.chatStream(conversation, 5000);
		Received received = new Received();
		assertThat(received.readTokens(stream, 2)).isTrue();
		String runId = received.runId();
		String path = "/v1/conversation/" + conversation + "/runs/" + runId + "/stream";
		Api there = alice.at(cluster.gatewayUrl(1));

		Map<String, Integer> lastEventIds = Map.of("garbage", 400, runId + ":x", 400, "run-other:2", 400, runId + ":-1",
				400, runId + ":999999", 400);
		for (Map.Entry<String, Integer> bad : lastEventIds.entrySet()) {
			Response response = there.raw("GET", path, null,
					Map.of("Authorization", "Bearer " + alice.token(), "Last-Event-ID", bad.getKey()));
			assertProblem(response, bad.getValue(), "Last-Event-ID " + bad.getKey());
		}
		assertProblem(there.get(path + "?starting_after=abc"), 400, "starting_after=abc");
		assertProblem(there.get("/v1/conversation/" + conversation + "/runs/bad*id/stream"), 400, "bad run id");
		assertProblem(there.get("/v1/conversation/" + conversation + "/runs/run-unknown/stream"), 404, "unknown run");
		assertProblem(bob.get(path), 404, "another user's run");
		assertProblem(Api.withToken(cluster.gatewayUrl(0), null).get(path), 401, "no token");
		assertThat(bob.get(path).body().replace(runId, "R").replace(conversation, "C"))
			.as("another user's run reads like an unknown one")
			.isEqualTo(alice.get("/v1/conversation/" + conversation + "/runs/" + "run-unknown" + "/stream")
				.body()
				.replace("run-unknown", "R")
				.replace(conversation, "C"));
		stream.disconnect();
	}

	@Test
	void aStreamTicketOpensOneResumeOfItsConversation() throws Exception {
		Api alice = user(0);
		String conversation = "c-" + UUID.randomUUID();
		Received whole = new Received();
		whole.readToEnd(alice.chatStream(conversation, 5));
		String path = "/v1/conversation/" + conversation + "/runs/" + whole.runId() + "/stream";
		Api anonymous = Api.withToken(cluster.gatewayUrl(1), null);

		String ticket = alice.streamTicket(conversation).json().get("ticket").asString();
		Response resumed = anonymous.get(path + "?ticket=" + ticket);
		assertThat(resumed.status()).isEqualTo(200);
		assertThat(resumed.contentType()).startsWith("text/event-stream");
		assertThat(resumed.body()).contains("data: [DONE]");
		assertProblem(anonymous.get(path + "?ticket=" + ticket), 401, "the same ticket again");
		String other = alice.streamTicket("c-other").json().get("ticket").asString();
		assertProblem(anonymous.get(path + "?ticket=" + other), 401, "a ticket for another conversation");
	}

	private static void assertProblem(Response response, int status, String what) {
		assertThat(response.status()).as(what).isEqualTo(status);
		assertThat(response.contentType()).as(what).startsWith("application/problem+json");
		assertThat(response.json().get("status").asInt()).as(what).isEqualTo(status);
	}

	private Api user(int gateway) {
		Api api = cluster.api(gateway, "resume-" + UUID.randomUUID());
		users.add(api);
		return api;
	}

	/** The recorded assistant answer of the conversation's (only) run. */
	private static String answer(Api api, String conversation) {
		JsonNode messages = api.history(conversation).json().get("messages");
		for (JsonNode message : messages) {
			if (message.get("role").asString().equals("assistant")) {
				return message.get("content").asString();
			}
		}
		throw new AssertionError("no answer in " + messages);
	}

	/**
	 * What a client holds across its streams of one run: the text, the index of its last
	 * event, and how many deltas arrived that it already had (an id not past its index).
	 */
	private static final class Received {

		final StringBuilder text = new StringBuilder();

		final List<String> deltaIds = new ArrayList<>();

		private final List<Integer> lengths = new ArrayList<>();

		String lastId;

		int index;

		int duplicates;

		int events;

		String finishReason;

		long resumedAt;

		final List<Double> catchUpMillis = new ArrayList<>();

		String runId() {
			return lastId.substring(0, lastId.lastIndexOf(':'));
		}

		/**
		 * Reads until it holds {@code tokens} tokens; false when the stream ended first.
		 */
		boolean readTokens(ChatStream stream, int tokens) throws InterruptedException {
			while (index < tokens) {
				if (!readOne(stream)) {
					return false;
				}
			}
			return true;
		}

		void readToEnd(ChatStream stream) throws InterruptedException {
			while (readOne(stream)) {
			}
		}

		/** The text a client held once it had the event with this id. */
		String textThrough(String id) {
			return text.substring(0, lengths.get(deltaIds.indexOf(id)));
		}

		private boolean readOne(ChatStream stream) throws InterruptedException {
			String data = stream.next(BOUND);
			assertThat(data).as("an event within %s", BOUND).isNotNull();
			assertThat(stream.status).as(data).isEqualTo(200);
			if (data.equals("[DONE]")) {
				return false;
			}
			String id = stream.idOfLast();
			events++;
			JsonNode chunk = Api.JSON.readTree(data);
			assertThat(id).as("every event has an id: %s", data).isNotNull().contains(":");
			int eventIndex = Integer.parseInt(id.substring(id.lastIndexOf(':') + 1));
			JsonNode choice = chunk.get("choices").get(0);
			String delta = choice.path("delta").path("content").asString("");
			if (!delta.isEmpty()) {
				if (eventIndex <= index) {
					duplicates++;
				}
				else {
					if (resumedAt != 0) {
						catchUpMillis.add(Math.round((System.nanoTime() - resumedAt) / 10_000.0) / 100.0);
						resumedAt = 0;
					}
					text.append(delta);
					index = eventIndex;
					deltaIds.add(id);
					lengths.add(text.length());
				}
			}
			if (!choice.path("finish_reason").isNull() && !choice.path("finish_reason").isMissingNode()) {
				finishReason = choice.get("finish_reason").asString();
			}
			lastId = id;
			return true;
		}

	}

}
