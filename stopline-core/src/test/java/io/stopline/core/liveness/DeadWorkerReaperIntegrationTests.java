package io.stopline.core.liveness;

import io.stopline.protocol.RunStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.stopline.protocol.Json;
import io.stopline.protocol.RunEvent;
import io.stopline.testing.RedisClients;
import io.stopline.testing.TestRedis;
import io.stopline.core.events.GatewayInboxes;
import io.stopline.core.events.RunEvents;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.run.RedisConversationRegistry;
import io.stopline.core.run.RunOutcome;
import io.stopline.core.run.RunRecord;
import io.stopline.core.schema.Keys;
import io.stopline.protocol.HistoryMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Liveness and reaping against a real Redis: heartbeat TTLs really expire here. */
class DeadWorkerReaperIntegrationTests {

	private static final Duration SHORT_TTL = Duration.ofMillis(300);

	private static RedisClients clients;

	private static ConversationRegistry registry;

	private static WorkerLiveness liveness;

	private static DeadWorkerReaper reaper;

	private final String user = "user-" + UUID.randomUUID();

	private final String worker = "w-" + UUID.randomUUID();

	private final String gateway = "g-" + UUID.randomUUID();

	@BeforeAll
	static void connect() {
		clients = new RedisClients(TestRedis.shared());
		registry = new RedisConversationRegistry(clients.template());
		liveness = new WorkerLiveness(clients.template());
		reaper = new DeadWorkerReaper(registry, liveness,
				new RunEvents(clients.redisson(), new GatewayInboxes(clients.redisson())));
	}

	@AfterAll
	static void disconnect() {
		clients.close();
	}

	@Test
	void aHeartbeatSaysWhetherTheWorkerStayedInTouch() {
		assertThat(liveness.heartbeat(worker, SHORT_TTL)).as("first beat").isFalse();
		assertThat(liveness.heartbeat(worker, SHORT_TTL)).as("renewed in time").isTrue();
		assertThat(liveness.isAlive(worker)).isTrue();

		await().atMost(Duration.ofSeconds(5)).until(() -> !liveness.isAlive(worker));

		assertThat(liveness.heartbeat(worker, SHORT_TTL)).as("after the TTL lapsed").isFalse();
	}

	@Test
	void theRunsOfAWorkerWhoseHeartbeatExpiredAreInterruptedAndTheirClientsTold() throws Exception {
		BlockingQueue<RunEvent> inbox = subscribeInbox();
		liveness.heartbeat(worker, SHORT_TTL);
		RunRecord a = running("c1");
		RunRecord b = running("c2");
		await().atMost(Duration.ofSeconds(5)).until(() -> !liveness.isAlive(worker));

		List<RunRecord> reaped = reaper.reapDead();

		assertThat(reaped).extracting(RunRecord::runId).contains(a.runId(), b.runId());
		assertThat(registry.active(user)).isEmpty();
		assertThat(registry.history(user, "c1")).last()
			.satisfies(message -> assertThat(message.status()).isEqualTo(RunStatus.INTERRUPTED.wireName()));
		assertThat(liveness.knownWorkers()).doesNotContain(worker);
		assertThat(registry.runsOf(worker)).isEmpty();
		List<String> told = new ArrayList<>();
		for (int i = 0; i < 2; i++) {
			RunEvent event = inbox.poll(5, TimeUnit.SECONDS);
			assertThat(event).isInstanceOf(RunEvent.RunFailed.class);
			told.add(event.runId());
		}
		assertThat(told).containsExactlyInAnyOrder(a.runId(), b.runId());
	}

	@Test
	void aWorkerRedisForgotIsNotDeadButOneWhoseHeartbeatExpiredIs() {
		assertThat(liveness.isDead(worker)).as("unknown: Redis lost its registration with its data").isFalse();
		liveness.heartbeat(worker, SHORT_TTL);
		assertThat(liveness.isDead(worker)).as("alive").isFalse();

		await().atMost(Duration.ofSeconds(5)).until(() -> liveness.isDead(worker));
	}

	@Test
	void aLiveWorkerIsNotReaped() {
		liveness.heartbeat(worker, Duration.ofSeconds(30));
		RunRecord run = running("c1");

		reaper.reapDead();

		assertThat(registry.find(user, "c1")).contains(run);
		assertThat(liveness.knownWorkers()).contains(worker);
	}

	@Test
	void concurrentReapersInterruptEachRunExactlyOnce() throws Exception {
		liveness.heartbeat(worker, SHORT_TTL);
		List<String> runIds = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			runIds.add(running("c" + i).runId());
		}
		await().atMost(Duration.ofSeconds(5)).until(() -> !liveness.isAlive(worker));

		List<String> reaped = new ArrayList<>();
		try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
			Callable<List<RunRecord>> reap = () -> reaper.reap(worker);
			List<Future<List<RunRecord>>> results = pool.invokeAll(List.of(reap, reap, reap, reap));
			for (Future<List<RunRecord>> result : results) {
				result.get().forEach(run -> reaped.add(run.runId()));
			}
		}

		assertThat(reaped).containsExactlyInAnyOrderElementsOf(runIds);
		assertThat(registry.active(user)).isEmpty();
		for (int i = 0; i < 20; i++) {
			assertThat(registry.history(user, "c" + i))
				.filteredOn(message -> RunStatus.INTERRUPTED.wireName().equals(message.status()))
				.hasSize(1);
		}
	}

	/**
	 * The SIGSTOP-past-TTL story at registry level: a worker frozen past its TTL is
	 * reaped, two newer turns of the conversation complete on another worker, and then
	 * the old owner wakes up, finds its heartbeat had lapsed and re-asserts its run:
	 * refused, and nothing of the stale run comes back.
	 */
	@Test
	void aWorkerWakingAfterTwoNewerTurnsCannotRestoreItsReapedRun() {
		liveness.heartbeat(worker, SHORT_TTL);
		RunRecord stale = running("c1");
		await().atMost(Duration.ofSeconds(5)).until(() -> !liveness.isAlive(worker));
		assertThat(reaper.reapDead()).extracting(RunRecord::runId).contains(stale.runId());
		String other = "w-other-" + UUID.randomUUID();
		for (int turn = 0; turn < 2; turn++) {
			RunRecord queued = RunRecord.queued("r-" + UUID.randomUUID(), user, "c1", "assistant", gateway,
					Instant.now());
			registry.reserve(queued, HistoryMessage.user("turn " + turn, queued.runId(), Instant.now()));
			RunRecord newer = registry.claim(queued, other, Instant.now()).orElseThrow();
			assertThat(registry.finish(newer, RunOutcome.complete("answer " + turn, Instant.now()))).isTrue();
		}

		assertThat(liveness.heartbeat(worker, SHORT_TTL)).as("the old owner notices its lapse").isFalse();
		ConversationRegistry.Restore restore = registry.restore(stale);

		assertThat(restore).isIn(ConversationRegistry.Restore.SUPERSEDED, ConversationRegistry.Restore.ENDED);
		assertThat(registry.find(user, "c1")).isEmpty();
		assertThat(registry.active(user)).isEmpty();
		assertThat(registry.runsOf(worker)).isEmpty();
		liveness.forget(worker);
	}

	/**
	 * A reservation whose reply timed out after it ran leaves a queued record and no job:
	 * the sweep ends it (and tells its client) once it is older than the bound; a run
	 * whose job waits in the queue, and a young one, are left alone.
	 */
	@Test
	void aRunQueuedWithoutAJobIsEndedOnceOlderThanTheBound() throws Exception {
		BlockingQueue<RunEvent> inbox = subscribeInbox();
		Instant longAgo = Instant.now().minusSeconds(120);
		RunRecord lost = RunRecord.queued("r-" + UUID.randomUUID(), user, "c1", "assistant", gateway, longAgo);
		registry.reserve(lost, HistoryMessage.user("hi", lost.runId(), longAgo));
		RunRecord backlogged = RunRecord.queued("r-" + UUID.randomUUID(), user, "c2", "assistant", gateway, longAgo);
		registry.reserve(backlogged, HistoryMessage.user("hi", backlogged.runId(), longAgo));
		String job = clients.template()
			.opsForStream()
			.add(Keys.JOBS,
					java.util.Map.of("job",
							Json.write(new io.stopline.protocol.StartRun(backlogged.runId(), user, "c2", "assistant",
									List.of(), 10, gateway, longAgo, null))))
			.getValue();
		RunRecord young = RunRecord.queued("r-" + UUID.randomUUID(), user, "c3", "assistant", gateway, Instant.now());
		registry.reserve(young, HistoryMessage.user("hi", young.runId(), Instant.now()));
		try {
			List<RunRecord> swept = reaper.sweepQueued(Duration.ofSeconds(60));

			assertThat(swept).extracting(RunRecord::runId).containsExactly(lost.runId());
			assertThat(registry.find(user, "c1")).isEmpty();
			assertThat(registry.history(user, "c1")).last()
				.satisfies(message -> assertThat(message.status()).isEqualTo(RunStatus.FAILED.wireName()));
			assertThat(registry.find(user, "c2")).map(RunRecord::runId).contains(backlogged.runId());
			assertThat(registry.find(user, "c3")).map(RunRecord::runId).contains(young.runId());
			RunEvent told = inbox.poll(5, TimeUnit.SECONDS);
			assertThat(told).isInstanceOf(RunEvent.RunFailed.class);
			assertThat(told.runId()).isEqualTo(lost.runId());
			assertThat(reaper.sweepQueued(Duration.ofSeconds(60))).as("swept once").isEmpty();
		}
		finally {
			clients.template().opsForStream().delete(Keys.JOBS, job);
		}
	}

	/**
	 * Entries of the queued-runs index whose run was claimed or ended (their removal
	 * lost) are dropped by the sweep, the whole page at once, and end nothing.
	 */
	@Test
	void staleEntriesOfTheQueuedIndexAreDroppedByTheSweep() {
		long longAgo = Instant.now().minusSeconds(120).toEpochMilli();
		List<String> stale = new java.util.ArrayList<>();
		for (int i = 0; i < 150; i++) {
			String member = Json.write(new String[] { user, "gone-" + i, "r-" + UUID.randomUUID() });
			clients.template().opsForZSet().add(Keys.QUEUED, member, longAgo);
			stale.add(member);
		}
		RunRecord claimed = running("c-claimed");
		clients.template()
			.opsForZSet()
			.add(Keys.QUEUED, Json.write(new String[] { user, "c-claimed", claimed.runId() }), longAgo);

		for (int sweep = 0; sweep < 10 && !stale.isEmpty(); sweep++) {
			assertThat(reaper.sweepQueued(Duration.ofSeconds(60))).isEmpty();
			stale.removeIf(member -> clients.template().opsForZSet().score(Keys.QUEUED, member) == null);
		}

		assertThat(stale).as("every stale entry dropped").isEmpty();
		assertThat(registry.find(user, "c-claimed")).map(RunRecord::runId).contains(claimed.runId());
		assertThat(clients.template()
			.opsForZSet()
			.score(Keys.QUEUED, Json.write(new String[] { user, "c-claimed", claimed.runId() }))).isNull();
	}

	private RunRecord running(String conversation) {
		RunRecord queued = RunRecord.queued("r-" + UUID.randomUUID(), user, conversation, "assistant", gateway,
				Instant.now());
		registry.reserve(queued, HistoryMessage.user("hi", queued.runId(), Instant.now()));
		return registry.claim(queued, worker, Instant.now()).orElseThrow();
	}

	private BlockingQueue<RunEvent> subscribeInbox() {
		BlockingQueue<RunEvent> events = new LinkedBlockingQueue<>();
		new GatewayInboxes(clients.redisson()).inbox(gateway)
			.addListener(String.class, (channel, raw) -> events.add(Json.read(raw, RunEvent.class)));
		return events;
	}

}
