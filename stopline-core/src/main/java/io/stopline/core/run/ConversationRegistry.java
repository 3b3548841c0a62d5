package io.stopline.core.run;

import io.stopline.protocol.RunState;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

import io.stopline.protocol.HistoryMessage;
import io.stopline.protocol.OnActive;

/**
 * Who runs what. A conversation has at most one active run; every change to it is fenced
 * on the run id, so a late claim, finish or stop for an older run never touches a newer
 * one.
 */
public interface ConversationRegistry {

	/**
	 * Reserves the conversation for a queued run and appends the user's message to its
	 * history.
	 */
	default Reservation reserve(RunRecord queued, HistoryMessage userMessage) {
		return reserve(queued, userMessage, Integer.MAX_VALUE);
	}

	/**
	 * As {@link #reserve(RunRecord, HistoryMessage)}, refused when the user already has
	 * {@code maxActiveRuns} queued or running runs (checked in the same atomic step).
	 */
	default Reservation reserve(RunRecord queued, HistoryMessage userMessage, int maxActiveRuns) {
		return reserve(queued, userMessage, maxActiveRuns, WhenBusy.REJECT);
	}

	/**
	 * As {@link #reserve(RunRecord, HistoryMessage, int)}; when the conversation has an
	 * active run, {@code whenBusy} says whether the new run waits behind it (the finish
	 * that ends the active run starts it) instead of being refused.
	 */
	default Reservation reserve(RunRecord queued, HistoryMessage userMessage, int maxActiveRuns, WhenBusy whenBusy) {
		return reserve(queued, userMessage, maxActiveRuns, whenBusy, null);
	}

	/**
	 * As {@link #reserve(RunRecord, HistoryMessage, int, WhenBusy)}; where the reserving
	 * script can reach the job stream (single Redis, Sentinel) a reserved run is also
	 * announced and queued in the same step ({@code enqueue}), one round trip fewer per
	 * chat start, and the answer is {@code Reserved(true)}. Otherwise (Redis Cluster, or
	 * no {@code enqueue}) the caller announces and queues it.
	 */
	Reservation reserve(RunRecord queued, HistoryMessage userMessage, int maxActiveRuns, WhenBusy whenBusy,
			@Nullable Enqueue enqueue);

	/**
	 * What a reservation does in its own step where it can: publish {@code announcement}
	 * (the user's message, to the conversation's watchers) and then add {@code job} to
	 * the job stream, so watchers hear the message before anything the run does.
	 */
	record Enqueue(String job, Announcement.Publication announcement) {
	}

	/**
	 * Whether the run waits behind the conversation's active run (see {@link WhenBusy}).
	 */
	boolean isWaiting(String userId, String conversationId, String runId);

	/**
	 * A worker takes a queued run; empty when the run is gone (stopped while queued) or
	 * not queued any more.
	 */
	default Optional<RunRecord> claim(RunRecord queued, String workerId, Instant at) {
		return take(queued, workerId, at).map(Claim::run);
	}

	/**
	 * {@link #claim}, also answering whether a WebSocket watched the conversation when
	 * the run was claimed (read in the same step: a socket that marks it watched later
	 * finds the run claimed and asks for a snapshot).
	 */
	default Optional<Claim> take(RunRecord queued, String workerId, Instant at) {
		return take(queued, workerId, at, null, null);
	}

	/**
	 * As {@link #take(RunRecord, String, Instant)}, and publishes {@code announcement}
	 * (the run's start) in the same round trip, only when this call claimed the run.
	 * Where {@link #acknowledgesJobsInClaim()}, the run's job ({@code jobEntry}, its
	 * entry id in {@code stopline:jobs}) is acknowledged and removed in the same step,
	 * claimed or not.
	 */
	Optional<Claim> take(RunRecord queued, String workerId, Instant at, @Nullable Announcement announcement,
			@Nullable String jobEntry);

	/**
	 * Whether {@link #take(RunRecord, String, Instant, Announcement, String)}
	 * acknowledges the job it is given (one Redis, Sentinel); on Redis Cluster the job
	 * stream is in another slot and the caller acknowledges it.
	 */
	boolean acknowledgesJobsInClaim();

	/** A claimed run, and whether its conversation was watched as it was claimed. */
	record Claim(RunRecord run, boolean watched) {
	}

	/**
	 * Ends the run, writing its outcome to the history; false when the record no longer
	 * belongs to this run.
	 */
	boolean finish(RunRecord run, RunOutcome outcome);

	/**
	 * As {@link #finish(RunRecord, RunOutcome)}, and publishes {@code announcement} in
	 * the same round trip, only when this call ended the run (a finish fenced out
	 * announces nothing).
	 */
	default boolean finish(RunRecord run, RunOutcome outcome, @Nullable Announcement announcement) {
		return finish(run, outcome, announcement, List.of());
	}

	/**
	 * As {@link #finish(RunRecord, RunOutcome, Announcement)}; the run's worker index
	 * entry and the recorded stop requests it settles ({@code settledStops}, exact
	 * members of the worker's stop set) are removed too, in the same round trip where one
	 * script can reach the worker's keys.
	 */
	default boolean finish(RunRecord run, RunOutcome outcome, @Nullable Announcement announcement,
			Collection<String> settledStops) {
		return finish(run, outcome, announcement, settledStops, null);
	}

	/**
	 * As {@link #finish(RunRecord, RunOutcome, Announcement, Collection)}, and writes the
	 * run's {@code replay} when this call ended the run, before its announcement leaves
	 * (a client that saw the end and resumes its stream finds it).
	 */
	boolean finish(RunRecord run, RunOutcome outcome, @Nullable Announcement announcement,
			Collection<String> settledStops, RunReplays.@Nullable Write replay);

	/**
	 * Like {@link #finish}, but only while the run is still queued (nobody claimed it
	 * yet).
	 */
	default boolean finishQueued(RunRecord run, RunOutcome outcome) {
		return finishQueued(run, outcome, null);
	}

	/**
	 * As {@link #finishQueued(RunRecord, RunOutcome)}, and publishes {@code announcement}
	 * in the same round trip, only when this call ended the run (as
	 * {@link #finish(RunRecord, RunOutcome, Announcement)}): the stop's confirmation, and
	 * its events in order before those of a waiting run the finish starts.
	 */
	boolean finishQueued(RunRecord run, RunOutcome outcome, @Nullable Announcement announcement);

	/**
	 * Runs still queued since before {@code queuedBefore} for which no job waits in the
	 * queue (a reservation whose reply timed out after it ran, so its job was never
	 * added), at most {@code limit} looked at.
	 */
	List<RunRecord> queuedWithoutJob(Instant queuedBefore, int limit);

	/**
	 * Re-asserts a running run after Redis may have lost it or a reaper may have ended
	 * it; writes the record (and the worker index entry) again only when nothing knows of
	 * the run any more (or its claim was lost and the record says queued, or its
	 * reservation was lost after a worker claimed it). Fenced on the conversation's
	 * generation: a run that is not the conversation's latest, or whose outcome is
	 * recorded, is never written again, however many turns came after it.
	 */
	default Restore restore(RunRecord running) {
		return restore(running, null);
	}

	/**
	 * As {@link #restore(RunRecord)}; when the run's reservation itself was lost (nothing
	 * of the run is in the history, and the conversation's latest run ended before it, or
	 * none is known), {@code userMessage} is written back to the history before the run.
	 */
	Restore restore(RunRecord running, @Nullable HistoryMessage userMessage);

	/**
	 * Writes again the outcome of a run that ended on this worker, after a failover or a
	 * restart lost it together with the run, fenced as {@link #restore} is. Where the
	 * record itself is gone, the outcome is written in one step and the record never
	 * comes back (a restore then a finish would list the run as active, after its stop
	 * was confirmed, for the round trip between them). {@link Restore#RESTORED} when the
	 * outcome was written.
	 */
	Restore restoreEnded(RunRecord run, @Nullable HistoryMessage userMessage, RunOutcome outcome);

	/**
	 * Moves a run from one state to another ({@link RunState#RUNNING} and
	 * {@link RunState#PAUSED}); false when the record is not this run in state
	 * {@code from}.
	 */
	boolean changeState(RunRecord run, RunState from, RunState to);

	/** What a stop of this conversation would hit. */
	StopTarget stopTarget(String userId, String conversationId);

	Optional<RunRecord> find(String userId, String conversationId);

	/**
	 * The records of many conversations ({@code [userId, conversationId]} pairs), in
	 * order, empty where there is none: one pipelined read where the implementation can
	 * (the ownership self-check reads every local run's record this way).
	 */
	default List<Optional<RunRecord>> findAll(List<WorkerRun> runs) {
		return runs.stream().map(run -> find(run.userId(), run.conversationId())).toList();
	}

	/**
	 * For each run, whether the conversation's latest run is that run and ended (its
	 * outcome is recorded): one pipelined read. A worker checks the outcomes it wrote
	 * this way once they should have reached every replica.
	 */
	List<Boolean> ended(List<WorkerRun> runs);

	/** The user's queued and running runs, on every worker. */
	List<RunRecord> active(String userId);

	/** The runs a worker holds, from the worker index. */
	List<WorkerRun> runsOf(String workerId);

	/**
	 * Removes one entry of a worker's index, whose record is gone or belongs to another
	 * run or worker (the index may only shrink once the record no longer needs it).
	 */
	void unindex(String workerId, String runId);

	List<HistoryMessage> history(String userId, String conversationId);

	/** The user's conversations, most recently active first, at most {@code limit}. */
	List<ConversationSummary> conversations(String userId, int limit);

	/**
	 * One conversation in a listing.
	 *
	 * @param title the first user message, shortened
	 */
	record ConversationSummary(String conversationId, String title, Instant lastActivity, boolean active) {
	}

	/**
	 * What a reservation does when the conversation already has an active run.
	 *
	 * @param mode {@code reject}: refused ({@link Reservation.Busy}); {@code enqueue}:
	 * the run waits behind the runs already waiting; {@code interrupt} and
	 * {@code rollback}: it waits first, as the active run's replacement (the caller stops
	 * the active run)
	 * @param job the run's job ({@code StartRun} JSON), queued when the run starts
	 * @param maxWaiting the most runs that may wait for one conversation
	 * ({@link Reservation.QueueFull} beyond; a replacement is not counted against it)
	 */
	record WhenBusy(OnActive mode, String job, int maxWaiting) {

		public static final WhenBusy REJECT = new WhenBusy(OnActive.REJECT, "", 0);

	}

	/** The result of {@link #reserve}. */
	sealed interface Reservation {

		/**
		 * The run waits behind {@code active} (its record, as the reservation found it):
		 * it starts when that run ends.
		 */
		record Waiting(RunRecord active) implements Reservation {
		}

		/** The run id already waits: the send joins it ({@code waiting}, its record). */
		record AlreadyWaiting(RunRecord waiting) implements Reservation {
		}

		/** As many runs as allowed already wait for this conversation. */
		record QueueFull(int waiting) implements Reservation {
		}

		/**
		 * Another message ({@code runId}) already replaces the active run: only one
		 * replacement wins.
		 */
		record AlreadyReplaced(String runId) implements Reservation {
		}

		/** Reserved; {@code queued}: its job is on the job stream already. */
		record Reserved(boolean queued) implements Reservation {

			public Reserved() {
				this(false);
			}

		}

		record Busy(RunRecord active) implements Reservation {
		}

		record TooManyActive(int active) implements Reservation {
		}

		/**
		 * The run id was stopped before its send arrived ({@code request}, the stop's
		 * JSON): nothing was reserved.
		 */
		record StoppedBefore(String request) implements Reservation {
		}

		/** The run id is the conversation's latest run, and it has ended. */
		record Ended() implements Reservation {
		}

	}

	/**
	 * Events for {@link #finish} to publish with the outcome's write, in order, each on
	 * its channels (see {@code RunEvents#announcement}).
	 */
	record Announcement(List<Publication> publications) {

		/** One event (JSON) and the channels it goes to. */
		public record Publication(String event, List<String> channels) {
		}

	}

	/** The result of {@link #stopTarget}. */
	sealed interface StopTarget {

		record Active(RunRecord run) implements StopTarget {
		}

		record RecentlyStopped(String runId) implements StopTarget {
		}

		record NotFound() implements StopTarget {
		}

	}

	/** The result of {@link #restore}. */
	enum Restore {

		/** the record is there: nothing changed */
		PRESENT,
		/** the record was gone and has been written again */
		RESTORED,
		/** a newer run owns the conversation: this one must stop */
		SUPERSEDED,
		/** the run's outcome is already in the history (it was reaped): it must stop */
		ENDED

	}

	/** An entry of a worker's index. */
	record WorkerRun(String runId, String userId, String conversationId) {
	}

}
