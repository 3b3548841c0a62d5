package io.stopline.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Response;
import io.stopline.core.schema.Keys;
import io.stopline.testing.InvariantChecker;
import io.stopline.testing.InvariantChecker.Listed;
import io.stopline.testing.InvariantChecker.Message;
import io.stopline.testing.OperationLog;
import io.stopline.testing.OperationLog.Kind;
import tools.jackson.databind.JsonNode;

import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * One user's client during a fault scenario: every send, token, stop and end goes into an
 * {@link OperationLog}; and the {@link InvariantChecker.Probe} that reads the outcome
 * through the API and Redis.
 */
final class FaultClient implements InvariantChecker.Probe {

	private static final Duration QUIET = Duration.ofSeconds(60);

	private final Api api;

	private final StringRedisTemplate redis;

	private final OperationLog log;

	private final Map<String, String> runIds = new ConcurrentHashMap<>();

	private final Map<String, CountDownLatch> ends = new ConcurrentHashMap<>();

	FaultClient(Api api, StringRedisTemplate redis) {
		this(api, redis, new OperationLog());
	}

	/**
	 * Reading the outcome of what {@code log} holds: a client logging its own streams and
	 * stops ({@link Api#recordingInto}), or this one's {@link #send}s and {@link #stop}s.
	 */
	FaultClient(Api api, StringRedisTemplate redis, OperationLog log) {
		this.api = api.plain();
		this.redis = redis;
		this.log = log;
	}

	OperationLog log() {
		return log;
	}

	Api api() {
		return api;
	}

	InvariantChecker checker(String scenario) {
		return new InvariantChecker(scenario, log, this);
	}

	/** Sends a message and records its stream in the background; the turn's key. */
	String send(String conversation, int maxTokens) {
		String turn = log.nextTurn(conversation);
		CountDownLatch ended = new CountDownLatch(1);
		ends.put(turn, ended);
		log.record(conversation, turn, Kind.SEND, turn);
		ChatStream stream = api.chatStream(conversation, maxTokens);
		Thread.ofVirtual().name("fault-client-" + turn).start(() -> {
			try {
				follow(conversation, turn, stream);
			}
			finally {
				ended.countDown();
			}
		});
		return turn;
	}

	private void follow(String conversation, String turn, ChatStream stream) {
		StreamRecorder recorder = new StreamRecorder(log, conversation, turn);
		try {
			String event;
			while ((event = stream.next(QUIET)) != null) {
				boolean ended = recorder.record(event, stream.status);
				String runId = runIdOf(event);
				if (runId != null) {
					runIds.putIfAbsent(turn, runId);
				}
				if (ended) {
					return;
				}
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (RuntimeException ex) {
			recorder.broken();
		}
	}

	private static String runIdOf(String event) {
		if (!event.startsWith("{")) {
			return null;
		}
		JsonNode id = Api.JSON.readTree(event).get("id");
		return id == null ? null : id.asString().replaceFirst("^chatcmpl-", "");
	}

	/** The run id the turn's stream named, waiting for it within the bound. */
	String runId(String turn, Duration bound) throws InterruptedException {
		long deadline = System.nanoTime() + bound.toNanos();
		while (System.nanoTime() < deadline) {
			String runId = runIds.get(turn);
			if (runId != null) {
				return runId;
			}
			Thread.sleep(10);
		}
		return null;
	}

	/** Stops the conversation's latest turn; the answer's status. */
	int stop(String conversation) {
		String turn = log.latestTurn(conversation);
		log.record(conversation, turn, Kind.STOP, "");
		int status;
		try {
			status = api.stop(conversation).status();
		}
		catch (RuntimeException ex) {
			status = -1;
		}
		log.record(conversation, turn, Kind.STOP_ANSWER, Integer.toString(status));
		return status;
	}

	/** Whether the turn's stream ended within the bound. */
	boolean awaitEnd(String turn, Duration bound) throws InterruptedException {
		CountDownLatch ended = ends.get(turn);
		return ended != null && ended.await(bound.toMillis(), TimeUnit.MILLISECONDS);
	}

	/** The statuses of the stops answered so far, counted. */
	Map<String, Integer> stopAnswers() {
		Map<String, Integer> answers = new HashMap<>();
		log.ops()
			.stream()
			.filter(op -> op.kind() == Kind.STOP_ANSWER)
			.forEach(op -> answers.merge(op.value(), 1, Integer::sum));
		return answers;
	}

	@Override
	public List<Listed> active() {
		List<Listed> listed = new ArrayList<>();
		Response response = api.active();
		if (response.status() != 200) {
			throw new IllegalStateException("active listing answered " + response.status());
		}
		response.json().get("active_conversations").forEach(run -> {
			String runId = run.get("run_id").asString();
			Object record = redis.opsForHash().get(Keys.runs(api.userId()), run.get("conversation_id").asString());
			String worker = record == null ? null : Api.JSON.readTree((String) record).path("worker").asString(null);
			listed.add(new Listed(run.get("conversation_id").asString(), runId, worker, run.get("state").asString()));
		});
		return listed;
	}

	@Override
	public boolean alive(String workerId) {
		return Boolean.TRUE.equals(redis.hasKey(Keys.workerAlive(workerId)));
	}

	@Override
	public Map<String, Map<String, String>> liveHoldings() {
		Map<String, Map<String, String>> holdings = new HashMap<>();
		var workers = redis.opsForZSet().range(Keys.WORKERS, 0, -1);
		if (workers == null) {
			return holdings;
		}
		for (String worker : workers) {
			if (!alive(worker)) {
				continue;
			}
			Map<String, String> runs = new HashMap<>();
			redis.opsForHash()
				.entries(Keys.workerRuns(worker))
				.forEach((run, entry) -> runs.put((String) run, Api.JSON.readTree((String) entry).get(1).asString()));
			holdings.put(worker, runs);
		}
		return holdings;
	}

	@Override
	public List<Message> history(String conversation) {
		Response response = api.history(conversation);
		if (response.status() == 404) {
			return List.of();
		}
		List<Message> messages = new ArrayList<>();
		response.json()
			.get("messages")
			.forEach(message -> messages
				.add(new Message(message.get("role").asString(), message.path("run_id").asString(null),
						message.path("status").asString(""), message.path("content").asString(""))));
		return messages;
	}

	@Override
	public boolean accepts(String conversation) {
		long start = System.nanoTime();
		Response response = api.chat(conversation, 3);
		if (response.status() != 200) {
			// why a conversation takes no new message (printed when the answer changes)
			String answer = response.status() + " " + response.body().replaceAll("\\s+", " ");
			if (!answer.equals(refusals.put(conversation, answer))) {
				System.out.printf("[fault-client] %s refused a new message after %d ms: %.300s%n", conversation,
						(System.nanoTime() - start) / 1_000_000, answer);
			}
		}
		return response.status() == 200;
	}

	private final Map<String, String> refusals = new ConcurrentHashMap<>();

}
