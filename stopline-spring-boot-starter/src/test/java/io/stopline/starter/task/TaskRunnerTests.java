package io.stopline.starter.task;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.stopline.protocol.Json;
import io.stopline.protocol.RunEvent;
import io.stopline.protocol.StartRun;
import io.stopline.protocol.StopReason;
import io.stopline.core.run.ConversationRegistry.StopTarget;
import io.stopline.core.events.GatewayInboxes;
import io.stopline.protocol.HistoryMessage;
import io.stopline.core.run.RedisConversationRegistry;
import io.stopline.core.events.RunEvents;
import io.stopline.core.run.RunRecord;
import io.stopline.core.ops.StopAudit;
import io.stopline.core.stop.StopRequests;
import io.stopline.testing.RedisClients;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/**
 * The task runner on its own, against a real Redis, with a plain fake generation: a run
 * that completes, a run that is stopped (persist, then announce the kept answer to every
 * gateway that asked), a run stopped before it starts, a run whose model fails, and the
 * worker's own timeout.
 */
class TaskRunnerTests {

	private static final Duration BOUND = Duration.ofSeconds(5);

	private static RedisClients clients;

	private RedisConversationRegistry registry;

	private LocalTaskRegistry tasks;

	private RunEvents events;

	private StopRequests stopRequests;

	private ExecutorService executor;

	private String user;

	private String worker;

	private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

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
		registry = new RedisConversationRegistry(clients.template());
		stopRequests = new StopRequests(clients.template());
		tasks = new LocalTaskRegistry();
		events = new RunEvents(clients.redisson(), new GatewayInboxes(clients.redisson()));
		executor = Executors.newVirtualThreadPerTaskExecutor();
		user = "user-" + UUID.randomUUID();
		worker = "w-" + UUID.randomUUID();
	}

	@AfterEach
	void tearDown() {
		executor.shutdownNow();
	}

	@Test
	void aRunThatCompletesRecordsItsAnswerAndAnnouncesIt() throws Exception {
		BlockingQueue<RunEvent> gateway = inbox("gw-a");
		StartRun job = reserve("c1", "gw-a");

		start(runner(Duration.ofMinutes(1)), job, tokens("Hello", " world"));

		RunEvent.RunCompleted completed = next(gateway, RunEvent.RunCompleted.class);
		assertThat(completed.content()).isEqualTo("Hello world");
		assertThat(completed.tokens()).isEqualTo(2);
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::role, HistoryMessage::status)
			.containsExactly(tuple("user", "complete"), tuple("assistant", "complete"));
		await().atMost(BOUND).until(() -> tasks.size() == 0);
	}

	@Test
	void aRunsStartIsTimedFromTheRequestToTheJobTakenTheClaimAndTheFirstToken() throws Exception {
		BlockingQueue<RunEvent> gateway = inbox("gw-a");
		StartRun job = reserve("c1", "gw-a");
		Generation slowFirstToken = run -> {
			Thread.sleep(30);
			run.emit("Hello");
			run.emit(" world");
		};

		start(runner(Duration.ofMinutes(1)), job, slowFirstToken);

		next(gateway, RunEvent.RunCompleted.class);
		Map<String, Timer> stages = new java.util.HashMap<>();
		for (String stage : List.of("taken", "claimed", "first_token")) {
			Timer timer = meters.find("stopline.run.start").tag("stage", stage).timer();
			assertThat(timer).as(stage).isNotNull();
			assertThat(timer.count()).as(stage).isEqualTo(1);
			stages.put(stage, timer);
		}
		// each stage after the one before; the model's own 30 ms before the first token
		double taken = stages.get("taken").totalTime(TimeUnit.MILLISECONDS);
		double claimed = stages.get("claimed").totalTime(TimeUnit.MILLISECONDS);
		double firstToken = stages.get("first_token").totalTime(TimeUnit.MILLISECONDS);
		assertThat(claimed).isGreaterThanOrEqualTo(taken);
		assertThat(firstToken).isGreaterThanOrEqualTo(claimed + 30);
	}

	@Test
	void aStoppedRunKeepsWhatWasStreamedAndTellsEveryGatewayThatAsked() throws Exception {
		BlockingQueue<RunEvent> own = inbox("gw-a");
		BlockingQueue<RunEvent> other = inbox("gw-b");
		StartRun job = reserve("c1", "gw-a");
		CountDownLatch streaming = new CountDownLatch(3);

		start(runner(Duration.ofMinutes(1)), job, endless(streaming));
		assertThat(streaming.await(BOUND.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
		// a token still waiting for its frame when the stop comes is seen by nobody and
		// not kept: stop once one has reached the gateway
		next(own, RunEvent.TokenGenerated.class);
		RunningTask task = tasks.find(user, "c1").orElseThrow();
		assertThat(task.requestStop(StopReason.USER, "gw-b", null, Instant.now())).isEqualTo(StopAttempt.ACCEPTED);

		RunEvent.RunStopped toOwn = next(own, RunEvent.RunStopped.class);
		RunEvent.RunStopped toOther = next(other, RunEvent.RunStopped.class);
		assertThat(toOther).isEqualTo(toOwn);
		assertThat(toOwn.reason()).isEqualTo(StopReason.USER);
		assertThat(toOwn.content()).hasSize(toOwn.tokens()).matches("x+");
		List<HistoryMessage> history = registry.history(user, "c1");
		assertThat(history)
			.extracting(HistoryMessage::role, HistoryMessage::content, HistoryMessage::status,
					HistoryMessage::stopReason)
			.containsExactly(tuple("user", "hello", "complete", null),
					tuple("assistant", toOwn.content(), "stopped", "user"),
					tuple("system", StopReason.USER.notice(), "complete", "user"));
		assertThat(registry.stopTarget(user, "c1")).isEqualTo(new StopTarget.RecentlyStopped(job.runId()));
		await().atMost(BOUND).until(() -> tasks.size() == 0);
		assertThat(task.requestStop(StopReason.USER, "gw-b", null, Instant.now())).as("a late stop finds it stopped")
			.isEqualTo(StopAttempt.ALREADY_STOPPED);
		assertThat(task.stoppedEvent()).isEqualTo(toOwn);
	}

	@Test
	void aRunStoppedWhileQueuedNeverStarts() throws Exception {
		StartRun job = stoppedWhileQueued("c1");
		CountDownLatch taken = new CountDownLatch(1);
		CountDownLatch ended = new CountDownLatch(1);
		Generation mustNotRun = run -> {
			throw new AssertionError("a stopped run must not generate");
		};

		runner(Duration.ofMinutes(1)).start(job, mustNotRun, taken::countDown, ended::countDown);

		assertThat(taken.await(BOUND.toMillis(), TimeUnit.MILLISECONDS)).as("its job is acknowledged").isTrue();
		assertThat(ended.await(BOUND.toMillis(), TimeUnit.MILLISECONDS)).as("its slot is freed").isTrue();
		assertThat(tasks.size()).isZero();
	}

	@Test
	void whileTheSchedulerIsBusyARunIsClaimedOnAStartThreadAndGeneratesOnItsOwnVirtualThread() throws Exception {
		BlockingQueue<RunEvent> gateway = inbox("gw-a");
		StartRun job = reserve("c1", "gw-a");
		TaskRunner runner = runner(Duration.ofMinutes(1));
		runner.claimOffScheduler(() -> true);
		BlockingQueue<Thread> claimedOn = new LinkedBlockingQueue<>();
		BlockingQueue<Thread> generatedOn = new LinkedBlockingQueue<>();
		CountDownLatch ended = new CountDownLatch(1);
		Generation generation = run -> {
			generatedOn.add(Thread.currentThread());
			run.emit("Hello");
			run.emit(" world");
		};

		runner.start(job, generation, () -> claimedOn.add(Thread.currentThread()), ended::countDown);

		Thread claiming = claimedOn.poll(BOUND.toMillis(), TimeUnit.MILLISECONDS);
		assertThat(claiming).isNotNull();
		assertThat(claiming.isVirtual()).isFalse();
		assertThat(claiming.getName()).startsWith("run-start-");
		Thread generating = generatedOn.poll(BOUND.toMillis(), TimeUnit.MILLISECONDS);
		assertThat(generating).isNotNull();
		assertThat(generating.isVirtual()).isTrue();
		assertThat(next(gateway, RunEvent.RunCompleted.class).content()).isEqualTo("Hello world");
		assertThat(ended.await(BOUND.toMillis(), TimeUnit.MILLISECONDS)).as("its slot is freed").isTrue();
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::role, HistoryMessage::status)
			.containsExactly(tuple("user", "complete"), tuple("assistant", "complete"));
		await().atMost(BOUND).until(() -> tasks.size() == 0);
	}

	@Test
	void whileTheSchedulerIsBusyARunStoppedWhileQueuedNeverStartsAndFreesItsSlotOnce() throws Exception {
		StartRun job = stoppedWhileQueued("c1");
		TaskRunner runner = runner(Duration.ofMinutes(1));
		runner.claimOffScheduler(() -> true);
		AtomicInteger ends = new AtomicInteger();
		CountDownLatch taken = new CountDownLatch(1);
		Generation mustNotRun = run -> {
			throw new AssertionError("a stopped run must not generate");
		};

		runner.start(job, mustNotRun, taken::countDown, ends::incrementAndGet);

		assertThat(taken.await(BOUND.toMillis(), TimeUnit.MILLISECONDS)).as("its job is acknowledged").isTrue();
		await().atMost(BOUND).until(() -> ends.get() == 1);
		assertThat(tasks.size()).isZero();
		// and a run that was claimed (its slot freed once: the count is 1 before it
		// starts and 2 after it ends) still generates while its stop goes through
		BlockingQueue<RunEvent> gateway = inbox("gw-a");
		StartRun next = reserve("c2", "gw-a");
		CountDownLatch streaming = new CountDownLatch(2);
		assertThat(ends.get()).isEqualTo(1);
		runner.start(next, endless(streaming), () -> {
		}, ends::incrementAndGet);
		assertThat(streaming.await(BOUND.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
		next(gateway, RunEvent.TokenGenerated.class);
		assertThat(tasks.find(user, "c2").orElseThrow().requestStop(StopReason.USER, "gw-a", null, Instant.now()))
			.isEqualTo(StopAttempt.ACCEPTED);
		assertThat(next(gateway, RunEvent.RunStopped.class).reason()).isEqualTo(StopReason.USER);
		await().atMost(BOUND).until(() -> ends.get() == 2);
	}

	@Test
	void aModelFailureIsRecordedWithItsPartialAnswer() throws Exception {
		BlockingQueue<RunEvent> gateway = inbox("gw-a");
		StartRun job = reserve("c1", "gw-a");
		Generation failing = run -> {
			run.emit("par");
			throw new IllegalStateException("upstream broke");
		};

		start(runner(Duration.ofMinutes(1)), job, failing);

		RunEvent.RunFailed failed = next(gateway, RunEvent.RunFailed.class);
		assertThat(failed.content()).isEqualTo("par");
		assertThat(failed.error()).as("no internal detail leaks").isEqualTo("The model failed to answer.");
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::status)
			.containsExactly("complete", "failed");
	}

	@Test
	void aRunPastItsTimeLimitIsStoppedAsTimeoutAndAudited() throws Exception {
		BlockingQueue<RunEvent> gateway = inbox("gw-a");
		StartRun job = reserve("c1", "gw-a");
		Generation endless = run -> {
			while (true) {
				run.emit("y");
				Thread.sleep(5);
			}
		};

		start(runner(Duration.ofMillis(300)), job, endless);

		RunEvent.RunStopped stopped = next(gateway, RunEvent.RunStopped.class);
		assertThat(stopped.reason()).isEqualTo(StopReason.TIMEOUT);
		assertThat(registry.history(user, "c1").get(2).content()).isEqualTo(StopReason.TIMEOUT.notice());
		await().atMost(BOUND)
			.untilAsserted(
					() -> assertThat(new StopAudit(clients.template()).read(user, null, 100)).anySatisfy(entry -> {
						assertThat(entry.run()).isEqualTo(job.runId());
						assertThat(entry.by()).isEqualTo("system");
						assertThat(entry.reason()).isEqualTo("timeout");
					}));
	}

	private void start(TaskRunner runner, StartRun job, Generation generation) {
		runner.start(job, generation, () -> {
		}, () -> {
		});
	}

	private TaskRunner runner(Duration maxRun) {
		return TaskFixtures.runner(registry, stopRequests, tasks, events, executor, new StopAudit(clients.template()),
				TaskFixtures.properties(worker, maxRun), clients.template(), meters);
	}

	/** Emits "x" every 2 ms until stopped, counting down {@code streaming} per token. */
	private static Generation endless(CountDownLatch streaming) {
		return run -> {
			while (true) {
				run.emit("x");
				streaming.countDown();
				Thread.sleep(2);
			}
		};
	}

	/** A run reserved, then stopped while still queued (its outcome recorded). */
	private StartRun stoppedWhileQueued(String conversationId) {
		StartRun job = reserve(conversationId, "gw-a");
		RunRecord queued = registry.find(user, conversationId).orElseThrow();
		assertThat(registry.finishQueued(queued,
				io.stopline.core.run.RunOutcome.stopped("", StopReason.USER, Instant.now())))
			.isTrue();
		return job;
	}

	private static Generation tokens(String... tokens) {
		return run -> {
			for (String token : tokens) {
				run.emit(token);
			}
		};
	}

	private StartRun reserve(String conversationId, String gateway) {
		RunRecord run = RunRecord.queued("run-" + UUID.randomUUID(), user, conversationId, "assistant", gateway,
				Instant.now());
		registry.reserve(run, HistoryMessage.user("hello", run.runId(), Instant.now()));
		return new StartRun(run.runId(), user, conversationId, "assistant",
				List.of(new StartRun.ChatMessage("user", "hello")), 100, gateway, run.queuedAt(), null);
	}

	private BlockingQueue<RunEvent> inbox(String gatewayId) {
		BlockingQueue<RunEvent> heard = new LinkedBlockingQueue<>();
		new GatewayInboxes(clients.redisson()).inbox(gatewayId).addListener(String.class, (channel, raw) -> {
			if (raw.startsWith("{")) {
				heard.add(Json.read(raw, RunEvent.class));
			}
		});
		// the gateway's token channel: frames, batched
		clients.redisson()
			.getTopic(io.stopline.core.schema.Keys.gatewayTokens(gatewayId),
					org.redisson.client.codec.StringCodec.INSTANCE)
			.addListener(String.class, (channel, raw) -> heard.addAll(io.stopline.protocol.TokenFrames.decode(raw)));
		return heard;
	}

	private static <T extends RunEvent> T next(BlockingQueue<RunEvent> heard, Class<T> type)
			throws InterruptedException {
		long deadline = System.nanoTime() + BOUND.toNanos();
		while (System.nanoTime() < deadline) {
			RunEvent event = heard.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
			if (type.isInstance(event)) {
				return type.cast(event);
			}
		}
		throw new AssertionError("no " + type.getSimpleName() + " within " + BOUND);
	}

}
