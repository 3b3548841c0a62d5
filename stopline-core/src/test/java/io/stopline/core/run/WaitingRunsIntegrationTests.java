package io.stopline.core.run;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import io.stopline.core.run.ConversationRegistry.Reservation;
import io.stopline.core.run.ConversationRegistry.WhenBusy;
import io.stopline.core.schema.Keys;
import io.stopline.core.schema.Topology;
import io.stopline.core.stop.StopRequests;
import io.stopline.core.stop.StopRequests.Lookup;
import io.stopline.protocol.HistoryMessage;
import io.stopline.protocol.OnActive;
import io.stopline.protocol.RunState;
import io.stopline.protocol.StopReason;
import io.stopline.protocol.StopRun;
import io.stopline.testing.RedisClients;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.stream.MapRecord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

/**
 * The waiting list of a conversation ({@code on_active}: reserve.lua puts a run behind
 * the active one, finish.lua starts it in the same step as the active run's outcome,
 * stop-request.lua drops it), against a real Redis, in both shapes of the scripts: one
 * slot (the finish queues the job itself) and Redis Cluster's (the caller queues it).
 */
class WaitingRunsIntegrationTests {

	enum Shape {

		SINGLE_SLOT(Topology.SINGLE_SLOT), CLUSTER(Topology.CLUSTER);

		final Topology topology;

		Shape(Topology topology) {
			this.topology = topology;
		}

	}

	private static RedisClients clients;

	private final String user = "user-" + UUID.randomUUID();

	private final String worker = "w-" + UUID.randomUUID();

	private final List<String> runIds = new ArrayList<>();

	@BeforeAll
	static void connect() {
		clients = new RedisClients(TestRedis.shared());
	}

	@AfterAll
	static void disconnect() {
		clients.close();
	}

	/** The jobs and queued-runs entries these tests made leave the shared Redis. */
	@AfterEach
	void removeJobs() {
		clients.template().delete(Keys.workerStops(worker));
		for (MapRecord<String, Object, Object> job : jobs()) {
			clients.template().opsForStream().delete(Keys.JOBS, job.getId());
		}
		for (String runId : runIds) {
			clients.template()
				.opsForZSet()
				.remove(Keys.QUEUED, io.stopline.protocol.Json.write(List.of(user, "c1", runId)));
		}
	}

	@ParameterizedTest
	@EnumSource(Shape.class)
	void anEnqueuedRunStartsWhenTheActiveOneEndsWithItsMessageAfterTheAnswer(Shape shape) {
		ConversationRegistry registry = registry(shape);
		RunRecord first = running(registry, "first");
		RunRecord second = queued();

		assertThat(registry.reserve(second, message("second", second), 10, enqueue(second, 8)))
			.isEqualTo(new Reservation.Waiting(first));
		assertThat(registry.isWaiting(user, "c1", second.runId())).isTrue();
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::content).containsExactly("first");
		assertThat(jobs()).isEmpty();

		assertThat(registry.finish(first, RunOutcome.complete("answer", Instant.now()))).isTrue();

		assertThat(registry.find(user, "c1")).contains(second);
		assertThat(registry.isWaiting(user, "c1", second.runId())).isFalse();
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::role, HistoryMessage::content)
			.containsExactly(tuple("user", "first"), tuple("assistant", "answer"), tuple("user", "second"));
		assertThat(jobs()).extracting(job -> job.getValue().get("job")).containsExactly("job:" + second.runId());
		assertThat(registry.claim(second, worker, Instant.now())).isPresent();
	}

	@ParameterizedTest
	@EnumSource(Shape.class)
	void enqueuedRunsStartInOrderUpToTheBound(Shape shape) {
		ConversationRegistry registry = registry(shape);
		RunRecord first = running(registry, "first");
		RunRecord second = queued();
		RunRecord third = queued();
		RunRecord fourth = queued();
		registry.reserve(second, message("second", second), 10, enqueue(second, 2));
		registry.reserve(third, message("third", third), 10, enqueue(third, 2));

		assertThat(registry.reserve(fourth, message("fourth", fourth), 10, enqueue(fourth, 2)))
			.isEqualTo(new Reservation.QueueFull(2));

		registry.finish(first, RunOutcome.complete("a1", Instant.now()));
		RunRecord running = registry.claim(second, worker, Instant.now()).orElseThrow();
		registry.finish(running, RunOutcome.complete("a2", Instant.now()));
		assertThat(registry.find(user, "c1")).contains(third);
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::content)
			.containsExactly("first", "a1", "second", "a2", "third");
	}

	@ParameterizedTest
	@EnumSource(Shape.class)
	void onlyOneMessageReplacesTheActiveRunAndItGoesFirst(Shape shape) {
		ConversationRegistry registry = registry(shape);
		RunRecord first = running(registry, "first");
		RunRecord queuedBehind = queued();
		registry.reserve(queuedBehind, message("later", queuedBehind), 10, enqueue(queuedBehind, 8));
		RunRecord tab1 = queued();
		RunRecord tab2 = queued();

		assertThat(registry.reserve(tab1, message("tab 1", tab1), 10, replace(OnActive.INTERRUPT, tab1)))
			.isEqualTo(new Reservation.Waiting(first));
		assertThat(registry.reserve(tab2, message("tab 2", tab2), 10, replace(OnActive.INTERRUPT, tab2)))
			.isEqualTo(new Reservation.AlreadyReplaced(tab1.runId()));
		assertThat(registry.reserve(tab1, message("tab 1", tab1), 10, replace(OnActive.INTERRUPT, tab1)))
			.as("the same run id again joins it")
			.isEqualTo(new Reservation.AlreadyWaiting(tab1));

		registry.finish(first, RunOutcome.stopped("partial", StopReason.SUPERSEDED, Instant.now()));

		assertThat(registry.find(user, "c1")).contains(tab1);
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::role, HistoryMessage::content)
			.containsExactly(tuple("user", "first"), tuple("assistant", "partial"),
					tuple("system", StopReason.SUPERSEDED.notice()), tuple("user", "tab 1"));
		assertThat(registry.isWaiting(user, "c1", queuedBehind.runId())).isTrue();
	}

	@ParameterizedTest
	@EnumSource(Shape.class)
	void aRollbackRemovesTheReplacedRunsMessagesAndKeepsTheEarlierOnes(Shape shape) {
		ConversationRegistry registry = registry(shape);
		RunRecord earlier = running(registry, "earlier");
		registry.finish(earlier, RunOutcome.complete("earlier answer", Instant.now()));
		RunRecord replaced = running(registry, "replaced");
		RunRecord replacement = queued();

		registry.reserve(replacement, message("instead", replacement), 10, replace(OnActive.ROLLBACK, replacement));
		registry.finish(replaced, RunOutcome.stopped("partial", StopReason.SUPERSEDED, Instant.now()));

		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::role, HistoryMessage::content)
			.containsExactly(tuple("user", "earlier"), tuple("assistant", "earlier answer"), tuple("user", "instead"));
		assertThat(registry.find(user, "c1")).contains(replacement);
	}

	@ParameterizedTest
	@EnumSource(Shape.class)
	void aRollbackThatRacesTheNaturalEndRollsBackWhicheverFinishCame(Shape shape) {
		ConversationRegistry registry = registry(shape);
		RunRecord replaced = running(registry, "replaced");
		RunRecord replacement = queued();
		registry.reserve(replacement, message("instead", replacement), 10, replace(OnActive.ROLLBACK, replacement));

		// the run completed before the stop reached it: its whole answer goes too
		registry.finish(replaced, RunOutcome.complete("whole answer", Instant.now()));

		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::content).containsExactly("instead");

		// the other order: the run ended first, nothing is active, the message is
		// simply reserved
		RunRecord running = registry.claim(replacement, worker, Instant.now()).orElseThrow();
		registry.finish(running, RunOutcome.complete("a2", Instant.now()));
		RunRecord late = queued();
		assertThat(registry.reserve(late, message("late", late), 10, replace(OnActive.ROLLBACK, late)))
			.isEqualTo(new Reservation.Reserved());
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::content)
			.containsExactly("instead", "a2", "late");
	}

	/**
	 * Every way a run ends starts the next one: a run reaped with its dead worker
	 * (interrupted), a queued run stopped before a worker claimed it.
	 */
	@ParameterizedTest
	@EnumSource(Shape.class)
	void aReapedRunAndAStoppedQueuedRunStartTheWaitingOneToo(Shape shape) {
		ConversationRegistry registry = registry(shape);
		RunRecord reaped = running(registry, "first");
		RunRecord second = queued();
		RunRecord third = queued();
		registry.reserve(second, message("second", second), 10, enqueue(second, 8));
		registry.reserve(third, message("third", third), 10, replace(OnActive.INTERRUPT, third));

		assertThat(registry.finish(reaped, RunOutcome.interrupted(Instant.now()))).isTrue();
		assertThat(registry.find(user, "c1")).contains(third);
		assertThat(registry.finishQueued(third, RunOutcome.stopped("", StopReason.SUPERSEDED, Instant.now()))).isTrue();

		assertThat(registry.find(user, "c1")).contains(second);
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::role, HistoryMessage::status)
			.containsExactly(tuple("user", "complete"), tuple("assistant", "interrupted"), tuple("user", "complete"),
					tuple("assistant", "stopped"), tuple("system", "complete"), tuple("user", "complete"));
		assertThat(jobs()).hasSize(2);
	}

	@ParameterizedTest
	@EnumSource(Shape.class)
	void aFinishFencedOutStartsNothing(Shape shape) {
		ConversationRegistry registry = registry(shape);
		RunRecord first = running(registry, "first");
		RunRecord second = queued();
		registry.reserve(second, message("second", second), 10, enqueue(second, 8));
		RunRecord stale = new RunRecord("r-stale", user, "c1", "assistant", RunState.RUNNING, worker, "g-1",
				first.queuedAt(), first.startedAt());

		assertThat(registry.finish(stale, RunOutcome.complete("late", Instant.now()))).isFalse();

		assertThat(registry.find(user, "c1")).contains(first);
		assertThat(registry.isWaiting(user, "c1", second.runId())).isTrue();
		assertThat(jobs()).isEmpty();
	}

	@ParameterizedTest
	@EnumSource(Shape.class)
	void aWaitingRunStoppedByItsIdNeverStarts(Shape shape) {
		ConversationRegistry registry = registry(shape);
		StopRequests stops = new StopRequests(clients.template(), shape.topology);
		RunRecord first = running(registry, "first");
		RunRecord second = queued();
		registry.reserve(second, message("second", second), 10, enqueue(second, 8));

		Lookup lookup = stops.request(user, "c1", null, stop(second.runId()), second.runId(), Duration.ofSeconds(60));

		assertThat(lookup).isEqualTo(new Lookup.Waiting(second));
		registry.finish(first, RunOutcome.complete("answer", Instant.now()));
		assertThat(registry.find(user, "c1")).isEmpty();
		assertThat(jobs()).isEmpty();
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::content).containsExactly("first", "answer");
	}

	@ParameterizedTest
	@EnumSource(Shape.class)
	void aStopOfTheConversationDropsTheWaitingRunsAndAStopOfTheActiveIdKeepsThem(Shape shape) {
		ConversationRegistry registry = registry(shape);
		StopRequests stops = new StopRequests(clients.template(), shape.topology);
		RunRecord first = running(registry, "first");
		RunRecord second = queued();
		RunRecord third = queued();
		registry.reserve(second, message("second", second), 10, enqueue(second, 8));
		registry.reserve(third, message("third", third), 10, enqueue(third, 8));

		Lookup byId = stops.request(user, "c1", null, stop(""), first.runId(), Duration.ofSeconds(60));
		assertThat(((Lookup.Found) byId).dropped()).isEmpty();
		assertThat(registry.isWaiting(user, "c1", second.runId())).isTrue();

		Lookup whole = stops.request(user, "c1", null, stop(""), null, Duration.ofSeconds(60));

		assertThat(((Lookup.Found) whole).dropped()).containsExactly(second, third);
		registry.finish(first, RunOutcome.stopped("", StopReason.USER, Instant.now()));
		assertThat(registry.find(user, "c1")).isEmpty();
		assertThat(jobs()).isEmpty();
	}

	private ConversationRegistry registry(Shape shape) {
		return new RedisConversationRegistry(clients.template(), null, Runnable::run, shape.topology);
	}

	/** A run of c1 reserved and claimed, its user message {@code content}. */
	private RunRecord running(ConversationRegistry registry, String content) {
		RunRecord run = queued();
		assertThat(registry.reserve(run, message(content, run))).isEqualTo(new Reservation.Reserved());
		return registry.claim(run, worker, Instant.now()).orElseThrow();
	}

	private RunRecord queued() {
		String runId = "r-" + UUID.randomUUID();
		runIds.add(runId);
		return RunRecord.queued(runId, user, "c1", "assistant", "g-1", Instant.parse("2026-01-15T10:30:00Z"));
	}

	private static HistoryMessage message(String content, RunRecord run) {
		return HistoryMessage.user(content, run.runId(), Instant.now());
	}

	private static WhenBusy enqueue(RunRecord run, int bound) {
		return new WhenBusy(OnActive.ENQUEUE, "job:" + run.runId(), bound);
	}

	private static WhenBusy replace(OnActive mode, RunRecord run) {
		return new WhenBusy(mode, "job:" + run.runId(), 8);
	}

	private StopRun stop(String runId) {
		return new StopRun(UUID.randomUUID().toString(), runId, user, "c1", StopReason.USER, "g-1", Instant.now());
	}

	/** This test's jobs in the shared job stream. */
	private List<MapRecord<String, Object, Object>> jobs() {
		List<MapRecord<String, Object, Object>> all = clients.template()
			.opsForStream()
			.range(Keys.JOBS, Range.unbounded());
		return all == null ? List.of()
				: all.stream()
					.filter(job -> runIds.stream().anyMatch(id -> ("job:" + id).equals(job.getValue().get("job"))))
					.toList();
	}

}
