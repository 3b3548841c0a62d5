package io.stopline.core.run;

import io.stopline.protocol.RunState;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import io.stopline.core.run.ConversationRegistry.Reservation;
import io.stopline.core.run.ConversationRegistry.StopTarget;
import io.stopline.core.run.ConversationRegistry.WorkerRun;
import io.stopline.protocol.HistoryMessage;
import io.stopline.protocol.StopReason;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

/**
 * The contract every {@link ConversationRegistry} keeps. Each implementation runs it
 * through a subclass.
 */
abstract class ConversationRegistryContractTests {

	private ConversationRegistry registry;

	private String user;

	private String w1;

	private String w2;

	protected abstract ConversationRegistry createRegistry();

	@BeforeEach
	void setUp() {
		registry = createRegistry();
		user = "user-" + UUID.randomUUID();
		w1 = "w1-" + UUID.randomUUID();
		w2 = "w2-" + UUID.randomUUID();
	}

	@Test
	void reserveRecordsTheRunAndTheUserMessage() {
		RunRecord run = queued("c1");

		assertThat(registry.reserve(run, HistoryMessage.user("hello", run.runId(), Instant.now())))
			.isInstanceOf(Reservation.Reserved.class);

		assertThat(registry.find(user, "c1")).contains(run);
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::content).containsExactly("hello");
	}

	@Test
	void findAllReadsManyRecordsInOrderWithTheMissingOnesEmpty() {
		RunRecord first = reserve("c1");
		RunRecord third = registry.claim(reserve("c3"), w1, Instant.now()).orElseThrow();
		List<WorkerRun> asked = new java.util.ArrayList<>();
		asked.add(new WorkerRun(first.runId(), user, "c1"));
		asked.add(new WorkerRun("r-none", user, "c2"));
		asked.add(new WorkerRun(third.runId(), user, "c3"));
		for (int i = 0; i < 300; i++) {
			asked.add(new WorkerRun("r-" + i, user, "none-" + i));
		}

		List<java.util.Optional<RunRecord>> found = registry.findAll(asked);

		assertThat(found).hasSize(303);
		assertThat(found.get(0)).contains(first);
		assertThat(found.get(1)).isEmpty();
		assertThat(found.get(2)).contains(third);
		assertThat(found.subList(3, 303)).allMatch(java.util.Optional::isEmpty);
	}

	@Test
	void aConversationHasAtMostOneActiveRun() {
		RunRecord first = reserve("c1");

		Reservation second = registry.reserve(queued("c1"), HistoryMessage.user("again", "r", Instant.now()));

		assertThat(second).isEqualTo(new Reservation.Busy(first));
		assertThat(registry.history(user, "c1")).hasSize(1);
	}

	@Test
	void conversationsAreListedNewestFirstWithTitleAndActivity() {
		RunRecord first = registry.claim(reserve("c1"), w1, Instant.now()).orElseThrow();
		registry.finish(first, RunOutcome.complete("done", Instant.now().plusSeconds(5)));
		RunRecord second = queued("c2");
		registry.reserve(second, HistoryMessage.user("x".repeat(100), second.runId(), Instant.now()));

		List<ConversationRegistry.ConversationSummary> listed = registry.conversations(user, 10);

		assertThat(listed).extracting(ConversationRegistry.ConversationSummary::conversationId)
			.containsExactly("c1", "c2");
		assertThat(listed.get(0).title()).isEqualTo("hello");
		assertThat(listed.get(0).active()).isFalse();
		assertThat(listed.get(1).active()).isTrue();
		assertThat(listed.get(1).title()).hasSize(60).endsWith("…");
		assertThat(registry.conversations("nobody-" + UUID.randomUUID(), 10)).isEmpty();
	}

	@Test
	void aUserAtTheActiveRunCapCannotReserveMore() {
		reserve("c1");
		reserve("c2");
		RunRecord third = queued("c3");

		Reservation refused = registry.reserve(third, HistoryMessage.user("more", third.runId(), Instant.now()), 2);

		assertThat(refused).isEqualTo(new Reservation.TooManyActive(2));
		assertThat(registry.find(user, "c3")).isEmpty();
		assertThat(registry.history(user, "c3")).isEmpty();
	}

	@Test
	void claimMakesTheRunRunningOnTheWorkerAndIndexesIt() {
		RunRecord run = reserve("c1");

		RunRecord claimed = registry.claim(run, w1, Instant.now()).orElseThrow();

		assertThat(claimed.state()).isEqualTo(RunState.RUNNING);
		assertThat(claimed.workerId()).isEqualTo(w1);
		assertThat(registry.find(user, "c1")).contains(claimed);
		assertThat(registry.runsOf(w1)).contains(new WorkerRun(run.runId(), user, "c1"));
	}

	@Test
	void aRunCanBeClaimedOnlyOnce() {
		RunRecord run = reserve("c1");
		registry.claim(run, w1, Instant.now()).orElseThrow();

		assertThat(registry.claim(run, w2, Instant.now())).isEmpty();
		assertThat(registry.runsOf(w2)).isEmpty();
	}

	@Test
	void finishUnregistersAndKeepsThePartialAnswerMarkedStopped() {
		RunRecord run = registry.claim(reserve("c1"), w1, Instant.now()).orElseThrow();

		assertThat(registry.finish(run, RunOutcome.stopped("partial ans", StopReason.USER, Instant.now()))).isTrue();

		assertThat(registry.find(user, "c1")).isEmpty();
		assertThat(registry.runsOf(w1)).isEmpty();
		assertThat(registry.history(user, "c1"))
			.extracting(HistoryMessage::role, HistoryMessage::content, HistoryMessage::status)
			.containsExactly(tuple("user", "hello", "complete"), tuple("assistant", "partial ans", "stopped"),
					tuple("system", HistoryMessage.STOP_NOTICE, "complete"));
		assertThat(registry.stopTarget(user, "c1")).isEqualTo(new StopTarget.RecentlyStopped(run.runId()));
	}

	@Test
	void aCompletedRunLeavesNoStopMarker() {
		RunRecord run = registry.claim(reserve("c1"), w1, Instant.now()).orElseThrow();

		registry.finish(run, RunOutcome.complete("all of it", Instant.now()));

		assertThat(registry.stopTarget(user, "c1")).isInstanceOf(StopTarget.NotFound.class);
	}

	@Test
	void aNewRunClearsTheStopMarker() {
		RunRecord first = registry.claim(reserve("c1"), w1, Instant.now()).orElseThrow();
		registry.finish(first, RunOutcome.stopped("", StopReason.USER, Instant.now()));

		RunRecord second = reserve("c1");

		assertThat(registry.stopTarget(user, "c1")).isEqualTo(new StopTarget.Active(second));
	}

	@Test
	void aStaleFinishDoesNotTouchANewerRun() {
		RunRecord old = registry.claim(reserve("c1"), w1, Instant.now()).orElseThrow();
		registry.finish(old, RunOutcome.complete("done", Instant.now()));
		RunRecord newer = reserve("c1");

		boolean removed = registry.finish(old, RunOutcome.stopped("late", StopReason.USER, Instant.now()));

		assertThat(removed).isFalse();
		assertThat(registry.find(user, "c1")).contains(newer);
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::content).doesNotContain("late");
	}

	@Test
	void aStaleClaimDoesNotTakeANewerRun() {
		RunRecord old = reserve("c1");
		registry.finishQueued(old, RunOutcome.stopped("", StopReason.USER, Instant.now()));
		RunRecord newer = reserve("c1");

		assertThat(registry.claim(old, w1, Instant.now())).isEmpty();
		assertThat(registry.find(user, "c1")).contains(newer);
	}

	@Test
	void finishQueuedFailsOnceAWorkerClaimedTheRun() {
		RunRecord run = reserve("c1");
		registry.claim(run, w1, Instant.now()).orElseThrow();

		assertThat(registry.finishQueued(run, RunOutcome.stopped("", StopReason.USER, Instant.now()))).isFalse();
		assertThat(registry.find(user, "c1")).isPresent();
	}

	@Test
	void stopTargetFindsOnlyTheCallersConversations() {
		RunRecord run = reserve("c1");

		assertThat(registry.stopTarget(user, "c1")).isEqualTo(new StopTarget.Active(run));
		assertThat(registry.stopTarget("someone-else", "c1")).isInstanceOf(StopTarget.NotFound.class);
		assertThat(registry.find("someone-else", "c1")).isEmpty();
	}

	@Test
	void activeListsTheUsersRunsOnly() {
		RunRecord a = registry.claim(reserve("c1"), w1, Instant.now()).orElseThrow();
		RunRecord b = registry.claim(reserve("c2"), w2, Instant.now()).orElseThrow();
		RunRecord c = reserve("c3");
		String other = user;
		user = "other-" + UUID.randomUUID();
		reserve("c4");

		assertThat(registry.active(other)).containsExactlyInAnyOrder(a, b, c);
		assertThat(registry.active(user)).extracting(RunRecord::conversationId).containsExactly("c4");
	}

	@Test
	void userIdsThatLookLikeKeySyntaxStayApart() {
		String plain = user;
		reserve("c1");
		user = plain + "}:runs{*";

		assertThat(registry.active(user)).isEmpty();
		reserve("c1");
		assertThat(registry.active(user)).hasSize(1);
		assertThat(registry.active(plain)).hasSize(1);
	}

	@Test
	void restoreLeavesAPresentRecordAlone() {
		RunRecord run = registry.claim(reserve("c1"), w1, Instant.now()).orElseThrow();

		assertThat(registry.restore(run)).isEqualTo(ConversationRegistry.Restore.PRESENT);
		assertThat(registry.find(user, "c1")).contains(run);
	}

	@Test
	void restoreWritesBackARunRedisForgot() {
		RunRecord run = registry.claim(reserve("c1"), w1, Instant.now()).orElseThrow();
		forget(run);

		assertThat(registry.restore(run)).isEqualTo(ConversationRegistry.Restore.RESTORED);
		assertThat(registry.find(user, "c1")).contains(run);
		assertThat(registry.runsOf(w1)).contains(new WorkerRun(run.runId(), user, "c1"));
	}

	@Test
	void restoreRefusesAReapedRun() {
		RunRecord run = registry.claim(reserve("c1"), w1, Instant.now()).orElseThrow();
		registry.finish(run, RunOutcome.interrupted(Instant.now()));

		assertThat(registry.restore(run)).isEqualTo(ConversationRegistry.Restore.ENDED);
		assertThat(registry.find(user, "c1")).isEmpty();
		assertThat(registry.runsOf(w1)).isEmpty();
	}

	@Test
	void restoreRefusesARunANewerOneReplaced() {
		RunRecord old = registry.claim(reserve("c1"), w1, Instant.now()).orElseThrow();
		registry.finish(old, RunOutcome.interrupted(Instant.now()));
		RunRecord newer = reserve("c1");

		assertThat(registry.restore(old)).isEqualTo(ConversationRegistry.Restore.SUPERSEDED);
		assertThat(registry.find(user, "c1")).contains(newer);
	}

	@Test
	void restoreRefusesARunReapedManyTurnsAgo() {
		RunRecord old = registry.claim(reserve("c1"), w1, Instant.now()).orElseThrow();
		registry.finish(old, RunOutcome.interrupted(Instant.now()));
		for (int turn = 0; turn < 3; turn++) {
			RunRecord newer = registry.claim(reserve("c1"), w2, Instant.now()).orElseThrow();
			registry.finish(newer, RunOutcome.complete("answer " + turn, Instant.now()));
		}

		assertThat(registry.restore(old)).isIn(ConversationRegistry.Restore.SUPERSEDED,
				ConversationRegistry.Restore.ENDED);
		assertThat(registry.find(user, "c1")).isEmpty();
		assertThat(registry.runsOf(w1)).isEmpty();
	}

	@Test
	void restoreTakesBackARunWhoseClaimWasLost() {
		RunRecord queued = reserve("c1");
		RunRecord claimed = registry.claim(queued, w1, Instant.now()).orElseThrow();
		loseClaim(queued);

		assertThat(registry.restore(claimed)).isEqualTo(ConversationRegistry.Restore.RESTORED);
		assertThat(registry.find(user, "c1")).contains(claimed);
		assertThat(registry.runsOf(w1)).contains(new WorkerRun(claimed.runId(), user, "c1"));
	}

	/**
	 * A failover can lose a run's reservation after a worker claimed the run on the old
	 * master: the promoted one has the previous, ended run as the latest and nothing of
	 * this one. The worker's restore writes it back, with the user's message, and its
	 * outcome then lands.
	 */
	@Test
	void restoreTakesBackARunWhoseReservationWasLost() {
		RunRecord previous = registry.claim(reserve("c1"), w1, Instant.now()).orElseThrow();
		registry.finish(previous, RunOutcome.complete("first answer", Instant.now()));
		RunRecord lost = claimedWithoutReservation("c1");
		HistoryMessage asked = HistoryMessage.user("second question", lost.runId(), lost.queuedAt());
		assertThat(registry
			.ended(List.of(new WorkerRun(lost.runId(), user, "c1"), new WorkerRun(previous.runId(), user, "c1"))))
			.containsExactly(false, true);

		assertThat(registry.restore(lost, asked)).isEqualTo(ConversationRegistry.Restore.RESTORED);
		assertThat(registry.find(user, "c1")).contains(lost);
		assertThat(registry.runsOf(w1)).contains(new WorkerRun(lost.runId(), user, "c1"));
		assertThat(registry.finish(lost, RunOutcome.complete("second answer", Instant.now()))).isTrue();
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::content)
			.containsSubsequence("first answer", "second question", "second answer");
		assertThat(registry.ended(List.of(new WorkerRun(lost.runId(), user, "c1")))).containsExactly(true);
	}

	/**
	 * Redis lost everything of a run that was stopped on this worker (a restart without
	 * data): its outcome is written back in one step, and the run is never active again
	 * (a restore then a finish listed it for the round trip between them).
	 */
	@Test
	void restoreEndedWritesALostOutcomeWithoutTheRunComingBack() {
		RunRecord lost = claimedWithoutReservation("c9");
		HistoryMessage asked = HistoryMessage.user("lost question", lost.runId(), lost.queuedAt());
		RunOutcome stopped = RunOutcome.stopped("partial", StopReason.USER, Instant.now());

		assertThat(registry.restoreEnded(lost, asked, stopped)).isEqualTo(ConversationRegistry.Restore.RESTORED);

		assertThat(registry.find(user, "c9")).isEmpty();
		assertThat(registry.runsOf(w1)).isEmpty();
		assertThat(registry.history(user, "c9"))
			.extracting(HistoryMessage::role, HistoryMessage::content, HistoryMessage::status)
			.containsExactly(tuple("user", "lost question", "complete"), tuple("assistant", "partial", "stopped"),
					tuple("system", HistoryMessage.STOP_NOTICE, "complete"));
		assertThat(registry.stopTarget(user, "c9")).isEqualTo(new StopTarget.RecentlyStopped(lost.runId()));
		assertThat(registry.ended(List.of(new WorkerRun(lost.runId(), user, "c9")))).containsExactly(true);
		// written once: a second check, or the run's own late restore, finds it ended
		assertThat(registry.restoreEnded(lost, asked, stopped)).isEqualTo(ConversationRegistry.Restore.ENDED);
		assertThat(registry.restore(lost)).isEqualTo(ConversationRegistry.Restore.ENDED);
		assertThat(registry.history(user, "c9")).hasSize(3);
	}

	/**
	 * A failover lost the reservation of a run that completed on this worker, after the
	 * previous run of the conversation ended: the user's message and the answer are
	 * written back after the previous run's.
	 */
	@Test
	void restoreEndedWritesBackALostReservationAfterThePreviousRun() {
		RunRecord previous = registry.claim(reserve("c1"), w1, Instant.now()).orElseThrow();
		registry.finish(previous, RunOutcome.complete("first answer", Instant.now()));
		RunRecord lost = claimedWithoutReservation("c1");
		HistoryMessage asked = HistoryMessage.user("second question", lost.runId(), lost.queuedAt());

		assertThat(registry.restoreEnded(lost, asked, RunOutcome.complete("second answer", Instant.now())))
			.isEqualTo(ConversationRegistry.Restore.RESTORED);

		assertThat(registry.find(user, "c1")).isEmpty();
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::content)
			.containsExactly("hello", "first answer", "second question", "second answer");
		assertThat(registry.stopTarget(user, "c1")).isInstanceOf(StopTarget.NotFound.class);
	}

	/** Its claim was lost (the record says queued): finished as any run, once. */
	@Test
	void restoreEndedFinishesARunWhoseClaimWasLost() {
		RunRecord queued = reserve("c1");
		RunRecord claimed = registry.claim(queued, w1, Instant.now()).orElseThrow();
		loseClaim(queued);

		assertThat(registry.restoreEnded(claimed, null, RunOutcome.complete("the answer", Instant.now())))
			.isEqualTo(ConversationRegistry.Restore.RESTORED);

		assertThat(registry.find(user, "c1")).isEmpty();
		assertThat(registry.runsOf(w1)).isEmpty();
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::content)
			.containsExactly("hello", "the answer");
	}

	@Test
	void restoreEndedRefusesARunAnotherWorkerHolds() {
		RunRecord queued = reserve("c1");
		RunRecord held = registry.claim(queued, w2, Instant.now()).orElseThrow();
		RunRecord mine = asIfOn(w1, held);

		assertThat(registry.restoreEnded(mine, null, RunOutcome.complete("not mine", Instant.now())))
			.isEqualTo(ConversationRegistry.Restore.SUPERSEDED);
		assertThat(registry.find(user, "c1")).contains(held);
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::content).containsExactly("hello");
	}

	@Test
	void restoreRefusesARunAnotherWorkerHolds() {
		RunRecord queued = reserve("c1");
		RunRecord held = registry.claim(queued, w2, Instant.now()).orElseThrow();
		RunRecord mine = asIfOn(w1, held);

		assertThat(registry.restore(mine)).isEqualTo(ConversationRegistry.Restore.SUPERSEDED);
		assertThat(registry.find(user, "c1")).contains(held);
		assertThat(registry.runsOf(w1)).isEmpty();
	}

	/**
	 * Makes the registry lose a run's record, as a Redis restart without persistence
	 * would.
	 */
	protected abstract void forget(RunRecord run);

	/**
	 * Puts the run's record back to {@code queued}, as a failover that lost the claim's
	 * write would.
	 */
	protected abstract void loseClaim(RunRecord queued);

	private RunRecord reserve(String conversation) {
		RunRecord run = queued(conversation);
		assertThat(registry.reserve(run, HistoryMessage.user("hello", run.runId(), Instant.now())))
			.isInstanceOf(Reservation.Reserved.class);
		return run;
	}

	/**
	 * A run of {@code conversation} running on w1 whose reservation Redis no longer holds
	 * (a failover lost it after the claim).
	 */
	private RunRecord claimedWithoutReservation(String conversation) {
		RunRecord queued = queued(conversation);
		return new RunRecord(queued.runId(), user, conversation, "assistant", RunState.RUNNING, w1, queued.replyTo(),
				queued.queuedAt(), Instant.ofEpochMilli(System.currentTimeMillis()));
	}

	/** {@code held}, as {@code worker} would record it if it believed it ran there. */
	private static RunRecord asIfOn(String worker, RunRecord held) {
		return new RunRecord(held.runId(), held.userId(), held.conversationId(), held.agentName(), RunState.RUNNING,
				worker, held.replyTo(), held.queuedAt(), held.startedAt());
	}

	private RunRecord queued(String conversation) {
		return RunRecord.queued("r-" + UUID.randomUUID(), user, conversation, "assistant", "g-1",
				Instant.parse("2026-01-15T10:30:00Z"));
	}

}
