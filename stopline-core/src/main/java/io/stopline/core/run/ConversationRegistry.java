package io.stopline.core.run;

import io.stopline.protocol.RunState;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

import io.stopline.protocol.HistoryMessage;

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
	Reservation reserve(RunRecord queued, HistoryMessage userMessage, int maxActiveRuns);

	/**
	 * A worker takes a queued run; empty when the run is gone (stopped while queued) or
	 * not queued any more.
	 */
	Optional<RunRecord> claim(RunRecord queued, String workerId, Instant at);

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
	boolean finish(RunRecord run, RunOutcome outcome, @Nullable Announcement announcement,
			Collection<String> settledStops);

	/**
	 * Like {@link #finish}, but only while the run is still queued (nobody claimed it
	 * yet).
	 */
	boolean finishQueued(RunRecord run, RunOutcome outcome);

	/**
	 * Runs still queued since before {@code queuedBefore} for which no job waits in the
	 * queue (a reservation whose reply timed out after it ran, so its job was never
	 * added), at most {@code limit} looked at.
	 */
	List<RunRecord> queuedWithoutJob(Instant queuedBefore, int limit);

	/**
	 * Re-asserts a running run after Redis may have lost it or a reaper may have ended
	 * it; writes the record (and the worker index entry) again only when nothing knows of
	 * the run any more (or its claim was lost and the record says queued). Fenced on the
	 * conversation's generation: a run that is not the conversation's latest, or whose
	 * outcome is recorded, is never written again, however many turns came after it.
	 */
	Restore restore(RunRecord running);

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

	/** The result of {@link #reserve}. */
	sealed interface Reservation {

		record Reserved() implements Reservation {
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
