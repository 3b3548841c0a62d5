package io.stopline.starter.stop;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.stopline.protocol.Json;
import io.stopline.protocol.RunEvent;
import io.stopline.protocol.StopReason;
import io.stopline.protocol.StopRun;
import io.stopline.core.events.GatewayInboxes;
import io.stopline.core.events.RunEvents;
import io.stopline.core.stop.StopRequests;
import io.stopline.testing.RedisClients;
import io.stopline.testing.TestRedis;
import io.stopline.starter.task.LocalTaskRegistry;
import io.stopline.starter.task.RunningTask;
import io.stopline.starter.task.StopAttempt;
import io.stopline.starter.task.TaskFixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One stop request on a worker, against a real Redis: the run is here and stops; it is
 * not here, or is an older run of the conversation, and the gateway is told; it completed
 * or was already stopped, and the gateway gets that answer. Every answered request leaves
 * the worker's recorded stop set; an accepted one stays until the run's outcome is
 * written.
 */
class StopHandlerTests {

	private static final Duration BOUND = Duration.ofSeconds(5);

	private static RedisClients clients;

	private LocalTaskRegistry tasks;

	private StopRequests stopRequests;

	private StopHandler handler;

	private String user;

	private String worker;

	private String gateway;

	@BeforeAll
	static void connect() {
		clients = new RedisClients(TestRedis.shared());
	}

	@AfterAll
	static void disconnect() {
		clients.close();
	}

	@BeforeEach
	void setUp() {
		tasks = new LocalTaskRegistry();
		stopRequests = new StopRequests(clients.template());
		user = "user-" + UUID.randomUUID();
		worker = "w-" + UUID.randomUUID();
		gateway = "gw-" + UUID.randomUUID();
		handler = new StopHandler(tasks, new RunEvents(clients.redisson(), new GatewayInboxes(clients.redisson())),
				stopRequests, TaskFixtures.properties(worker, Duration.ofMinutes(1)));
	}

	@Test
	void aStopForARunHereStopsItAndStaysRecordedUntilTheOutcomeIsWritten() {
		RunningTask task = TaskFixtures.running(tasks, TaskFixtures.job("run-1", user, "c1", "gw-chat"));
		String raw = record(stop("run-1", "c1"));

		handler.handle(raw);

		assertThat(task.isRunning()).as("stopping").isFalse();
		assertThat(task.requestStop(StopReason.USER)).as("joins the stop that won").isEqualTo(StopAttempt.ACCEPTED);
		assertThat(stopRequests.pending(worker)).containsExactly(raw);
	}

	@Test
	void theFastPathAcceptsWithoutAnyRedisCall() {
		RunningTask task = TaskFixtures.running(tasks, TaskFixtures.job("run-1", user, "c1", "gw-chat"));
		String raw = Json.write(stop("run-1", "c1"));

		handler.handleFast(raw, command -> {
			throw new AssertionError("the accepted case must not be handed to the I/O executor");
		});

		assertThat(task.isRunning()).isFalse();
	}

	@Test
	void aStopForARunNotHereIsAnsweredNotRunningAndCleared() throws InterruptedException {
		BlockingQueue<RunEvent> answers = inbox();
		String raw = record(stop("run-1", "c1"));

		handler.handle(raw);

		RunEvent.StopIgnored ignored = (RunEvent.StopIgnored) answers.poll(BOUND.toSeconds(), TimeUnit.SECONDS);
		assertThat(ignored.runId()).isEqualTo("run-1");
		assertThat(ignored.cause()).isEqualTo("not_running");
		assertThat(stopRequests.pending(worker)).isEmpty();
	}

	@Test
	void aStopForAnOlderRunNeverTouchesTheNewerOne() throws InterruptedException {
		RunningTask newer = TaskFixtures.running(tasks, TaskFixtures.job("run-2", user, "c1", "gw-chat"));
		BlockingQueue<RunEvent> answers = inbox();

		handler.handle(record(stop("run-1", "c1")));

		assertThat(((RunEvent.StopIgnored) answers.poll(BOUND.toSeconds(), TimeUnit.SECONDS)).cause())
			.isEqualTo("not_running");
		assertThat(newer.isRunning()).isTrue();
	}

	@Test
	void aStopThatLostTheRaceIsAnsweredCompleted() throws InterruptedException {
		RunningTask task = TaskFixtures.running(tasks, TaskFixtures.job("run-1", user, "c1", "gw-chat"));
		TaskFixtures.complete(task);
		BlockingQueue<RunEvent> answers = inbox();

		handler.handle(record(stop("run-1", "c1")));

		assertThat(((RunEvent.StopIgnored) answers.poll(BOUND.toSeconds(), TimeUnit.SECONDS)).cause())
			.isEqualTo("completed");
		assertThat(stopRequests.pending(worker)).isEmpty();
	}

	@Test
	void aRepeatedStopOfAStoppedRunGetsTheSameConfirmation() throws InterruptedException {
		RunningTask task = TaskFixtures.running(tasks, TaskFixtures.job("run-1", user, "c1", "gw-chat"));
		RunEvent.RunStopped stopped = TaskFixtures.stopped(task);
		BlockingQueue<RunEvent> answers = inbox();

		handler.handle(record(stop("run-1", "c1")));

		assertThat(answers.poll(BOUND.toSeconds(), TimeUnit.SECONDS)).isEqualTo(stopped);
		assertThat(stopRequests.pending(worker)).isEmpty();
	}

	@Test
	void anUnreadableRequestIsDropped() {
		String raw = "{not json";
		clients.template().opsForZSet().add(io.stopline.core.schema.Keys.workerStops(worker), raw, 1);

		handler.handle(raw);

		assertThat(stopRequests.pending(worker)).isEmpty();
	}

	private StopRun stop(String runId, String conversationId) {
		return new StopRun(UUID.randomUUID().toString(), runId, user, conversationId, StopReason.USER, gateway,
				Instant.now());
	}

	/**
	 * Records (and publishes, to nobody) the request as a gateway does; its exact JSON.
	 */
	private String record(StopRun stop) {
		stopRequests.signal(worker, stop);
		return stopRequests.pending(worker)
			.stream()
			.filter(raw -> raw.contains(stop.requestId()))
			.findFirst()
			.orElseThrow();
	}

	private BlockingQueue<RunEvent> inbox() {
		BlockingQueue<RunEvent> heard = new LinkedBlockingQueue<>();
		new GatewayInboxes(clients.redisson()).inbox(gateway)
			.addListener(String.class, (channel, raw) -> heard.add(Json.read(raw, RunEvent.class)));
		return heard;
	}

}
