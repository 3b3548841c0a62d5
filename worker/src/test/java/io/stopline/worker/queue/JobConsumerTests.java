package io.stopline.worker.queue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import io.stopline.protocol.Json;
import io.stopline.protocol.StartRun;
import io.stopline.core.events.GatewayInboxes;
import io.stopline.protocol.HistoryMessage;
import io.stopline.core.schema.Keys;
import io.stopline.core.run.RedisConversationRegistry;
import io.stopline.core.events.RunEvents;
import io.stopline.core.run.RunRecord;
import io.stopline.core.ops.StopAudit;
import io.stopline.core.stop.StopRequests;
import io.stopline.testing.RedisClients;
import io.stopline.testing.TestRedis;
import io.stopline.starter.WorkerProperties;
import io.stopline.starter.liveness.ReadinessFixtures;
import io.stopline.worker.model.ChatModel;
import io.stopline.starter.task.LocalTaskRegistry;
import io.stopline.starter.task.TaskFixtures;
import io.stopline.starter.task.TaskRunner;
import io.stopline.worker.agent.AgentRuns;
import io.stopline.worker.tool.ToolLoop;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.api.RStream;
import org.redisson.api.stream.StreamAddArgs;
import org.redisson.client.codec.StringCodec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The job consumer against a real Redis stream: it takes queued runs through the consumer
 * group, never more than its free slots, and removes each job once its run is claimed.
 */
class JobConsumerTests {

	private static final Duration BOUND = Duration.ofSeconds(10);

	private static RedisClients clients;

	private RedisConversationRegistry registry;

	private LocalTaskRegistry tasks;

	private ExecutorService executor;

	private JobConsumer consumer;

	private String user;

	private RStream<String, String> jobs;

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
		tasks = new LocalTaskRegistry();
		executor = Executors.newVirtualThreadPerTaskExecutor();
		user = "user-" + UUID.randomUUID();
		jobs = clients.redisson().getStream(Keys.JOBS, StringCodec.INSTANCE);
	}

	@AfterEach
	void tearDown() {
		if (consumer != null) {
			consumer.stop();
		}
		executor.shutdownNow();
	}

	@Test
	void aQueuedRunIsTakenRunAndItsJobRemoved() {
		start(1, (request, sink) -> sink.accept("done"));

		String runId = enqueue("c1");

		await().atMost(BOUND)
			.until(() -> registry.history(user, "c1").size() == 2 && registry.find(user, "c1").isEmpty());
		assertThat(registry.history(user, "c1").get(1).content()).isEqualTo("done");
		await().atMost(BOUND).until(() -> !containsJob(runId));
	}

	@Test
	void neverTakesMoreRunsThanItsSlots() throws InterruptedException {
		AtomicInteger concurrent = new AtomicInteger();
		AtomicInteger highest = new AtomicInteger();
		CountDownLatch release = new CountDownLatch(1);
		start(2, (request, sink) -> {
			highest.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
			try {
				release.await();
				sink.accept("ok");
			}
			finally {
				concurrent.decrementAndGet();
			}
		});

		List<String> conversations = List.of("c1", "c2", "c3", "c4", "c5");
		conversations.forEach(this::enqueue);

		await().atMost(BOUND).until(() -> concurrent.get() == 2);
		// the other jobs stay queued while both slots are busy: give the consumer time to
		// (wrongly) take one, bounded by its own block timeout
		await().during(Duration.ofMillis(1500)).atMost(BOUND).until(() -> tasks.size() == 2);
		release.countDown();
		await().atMost(BOUND)
			.until(() -> conversations.stream().allMatch(id -> registry.history(user, id).size() == 2));
		assertThat(highest).hasValue(2);
	}

	/**
	 * A gateway queued runs before any worker made the consumer group (a fresh Redis, or
	 * one that lost its data: the gateway's {@code XADD} makes the stream, not the
	 * group). The first worker makes the group and still takes them: a group made at
	 * {@code $} would skip them, and their runs would stay queued forever.
	 */
	@Test
	void jobsQueuedBeforeTheGroupExistedAreTaken() {
		jobs.delete();
		String first = enqueue("c-before-group-1");
		String second = enqueue("c-before-group-2");
		assertThat(jobs.listGroups()).as("no group yet: only the gateway's XADD made the stream").isEmpty();

		start(2, (request, sink) -> sink.accept("done"));

		await().atMost(BOUND)
			.until(() -> registry.history(user, "c-before-group-1").size() == 2
					&& registry.history(user, "c-before-group-2").size() == 2);
		await().atMost(BOUND).until(() -> !containsJob(first) && !containsJob(second));
	}

	/**
	 * A blocking read whose reply comes after Redisson gave up on it (a Redis stall
	 * longer than the block) leaves the job pending on this worker's consumer, never
	 * handed to it: taken again within a few seconds, not after {@code orphaned-job-idle}
	 * (30 s) by another worker.
	 */
	@Test
	void aJobDeliveredToThisWorkerThatNeverReachedItIsTakenAgain() {
		String workerId = "w-" + UUID.randomUUID();
		try {
			jobs.createGroup(org.redisson.api.stream.StreamCreateGroupArgs.name(Keys.JOBS_GROUP).makeStream());
		}
		catch (RuntimeException ex) {
			// BUSYGROUP: the group exists
		}
		String runId = enqueue("c-undelivered");
		// the read ran in Redis; its reply never reached the worker
		assertThat(jobs.readGroup(Keys.JOBS_GROUP, workerId,
				org.redisson.api.stream.StreamReadGroupArgs.neverDelivered().count(100)))
			.isNotEmpty();
		long started = System.nanoTime();
		start(workerId, 1, (request, sink) -> sink.accept("done"));

		await().atMost(BOUND)
			.until(() -> registry.history(user, "c-undelivered").size() == 2
					&& registry.find(user, "c-undelivered").isEmpty());
		System.out.printf("[jobs] a job delivered but never handed over ran after %d ms%n",
				(System.nanoTime() - started) / 1_000_000);
		await().atMost(BOUND).until(() -> !containsJob(runId));
	}

	private void start(int slots, ChatModel model) {
		start("w-" + UUID.randomUUID(), slots, model);
	}

	private void start(String workerId, int slots, ChatModel model) {
		WorkerProperties properties = TaskFixtures.properties(workerId, Duration.ofMinutes(1));
		RunEvents events = new RunEvents(clients.redisson(), new GatewayInboxes(clients.redisson()));
		TaskRunner runner = TaskFixtures.runner(registry, new StopRequests(clients.template()), tasks, events, executor,
				new StopAudit(clients.template()), properties, clients.template());
		consumer = new JobConsumer(clients.redisson(), new AgentRuns(runner, ToolLoop.without(model)),
				ReadinessFixtures.ready(properties), properties, new JobQueueProperties(slots, Duration.ofSeconds(30)));
		consumer.start();
	}

	private String enqueue(String conversationId) {
		RunRecord run = RunRecord.queued("run-" + UUID.randomUUID(), user, conversationId, "assistant", "gw-none",
				Instant.now());
		registry.reserve(run, HistoryMessage.user("hello", run.runId(), Instant.now()));
		StartRun job = TaskFixtures.job(run.runId(), user, conversationId, "gw-none");
		jobs.add(StreamAddArgs.entry("job", Json.write(new StartRun(job.runId(), job.userId(), job.conversationId(),
				job.agentName(), job.messages(), job.maxTokens(), job.replyTo(), run.queuedAt(), null))));
		return run.runId();
	}

	private boolean containsJob(String runId) {
		return jobs.range(org.redisson.api.stream.StreamMessageId.MIN, org.redisson.api.stream.StreamMessageId.MAX)
			.values()
			.stream()
			.anyMatch(entry -> String.valueOf(entry.get("job")).contains(runId));
	}

}
