package io.stopline.worker.task;

import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import io.stopline.protocol.RunEvent;
import io.stopline.protocol.RunEvent.RunStopped;
import io.stopline.protocol.StartRun;
import io.stopline.core.run.RunRecord;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run on this worker and its life cycle: RUNNING, then STOPPING (a stop won) or
 * COMPLETING (the model finished first), then DONE. The lock makes the stop/complete race
 * have exactly one winner and guarantees the interrupt lands only while the model is
 * generating, never during the bookkeeping that follows.
 */
public final class RunningTask {

	private static final Logger log = LoggerFactory.getLogger(RunningTask.class);

	enum State {

		RUNNING, STOPPING, COMPLETING, DONE

	}

	/** What {@link #requestStop} found. */
	public enum StopAttempt {

		ACCEPTED, COMPLETED, ALREADY_STOPPED

	}

	/** What {@link #pause} or {@link #resume} found. */
	public enum ControlAttempt {

		/** the run changed state */
		CHANGED,
		/** it already was in the asked state */
		UNCHANGED,
		/** it is stopping or ending: nothing to pause or resume */
		ENDING

	}

	private static final java.time.Duration SNAPSHOT_DRAIN = java.time.Duration.ofSeconds(2);

	private final StartRun job;

	private final ReentrantLock lock = new ReentrantLock();

	private final Condition resumed = lock.newCondition();

	/**
	 * Serializes pause and resume of this run end to end (state, Redis record, events),
	 * so two quick commands cannot leave the record saying the opposite of the task.
	 */
	private final ReentrantLock control = new ReentrantLock();

	private final ReentrantLock emitting = new ReentrantLock();

	private boolean paused;

	/** A WebSocket watches the conversation: tokens go to its event channel too. */
	private volatile boolean watched = true;

	private volatile boolean finishing;

	private @Nullable Future<?> pauseTimeout;

	private final StringBuilder content = new StringBuilder();

	private final Set<String> stopReplyTo = new LinkedHashSet<>();

	private final Set<String> rawStops = new LinkedHashSet<>();

	private State state = State.RUNNING;

	private @Nullable String stopReason;

	private @Nullable Thread generating;

	private @Nullable RunStopped stopped;

	private volatile @Nullable RunRecord record;

	private volatile @Nullable TokenOutbox outbox;

	private int tokens;

	private @Nullable Instant stopRequestedAt;

	private @Nullable Instant cancelledAt;

	private final java.util.concurrent.atomic.AtomicInteger lostTokens = new java.util.concurrent.atomic.AtomicInteger();

	RunningTask(StartRun job) {
		this.job = job;
	}

	public StartRun job() {
		return job;
	}

	public String runId() {
		return job.runId();
	}

	public String userId() {
		return job.userId();
	}

	public String conversationId() {
		return job.conversationId();
	}

	@Nullable RunRecord record() {
		return record;
	}

	void claimed(RunRecord claimed) {
		this.record = claimed;
	}

	/** Set once, before generation starts. */
	void outbox(TokenOutbox outbox) {
		this.outbox = outbox;
	}

	TokenOutbox outbox() {
		TokenOutbox current = outbox;
		if (current == null) {
			throw new IllegalStateException("run " + runId() + " has not started generating");
		}
		return current;
	}

	/**
	 * Sends the frames still pending and waits until Redis took them (a pause or a
	 * snapshot must not overtake tokens already generated).
	 */
	void drainFrames(java.time.Duration bound) {
		TokenOutbox current = outbox;
		if (current != null) {
			current.drain(bound);
		}
	}

	/**
	 * Asks the task to stop. The first accepted request interrupts the generation; later
	 * ones only add the gateway to notify. {@code rawStop} is the recorded request to
	 * clear once the stop is done.
	 */
	public StopAttempt requestStop(String reason, @Nullable String replyTo, @Nullable String rawStop) {
		return requestStop(reason, replyTo, rawStop, Instant.now());
	}

	/**
	 * As {@link #requestStop(String, String, String)}, with the time the stop was
	 * requested at its origin.
	 */
	public StopAttempt requestStop(String reason, @Nullable String replyTo, @Nullable String rawStop,
			Instant requestedAt) {
		lock.lock();
		try {
			return switch (state) {
				case RUNNING -> {
					state = State.STOPPING;
					stopReason = reason;
					stopRequestedAt = requestedAt;
					remember(replyTo, rawStop);
					if (generating != null) {
						generating.interrupt();
					}
					yield StopAttempt.ACCEPTED;
				}
				case STOPPING -> {
					remember(replyTo, rawStop);
					yield StopAttempt.ACCEPTED;
				}
				case COMPLETING -> StopAttempt.COMPLETED;
				case DONE -> stopped != null ? StopAttempt.ALREADY_STOPPED : StopAttempt.COMPLETED;
			};
		}
		finally {
			lock.unlock();
		}
	}

	/**
	 * Pauses the run: the generating thread blocks at its next token (with an upstream
	 * model, it stops reading the stream, so the upstream is held back by TCP flow
	 * control). A stop still interrupts it at once.
	 */
	ControlAttempt pause() {
		return locked(() -> {
			if (state != State.RUNNING) {
				return ControlAttempt.ENDING;
			}
			if (paused) {
				return ControlAttempt.UNCHANGED;
			}
			paused = true;
			return ControlAttempt.CHANGED;
		});
	}

	/** What {@link #resume} would do, without doing it. */
	ControlAttempt resumable() {
		return locked(() -> state != State.RUNNING ? ControlAttempt.ENDING
				: paused ? ControlAttempt.CHANGED : ControlAttempt.UNCHANGED);
	}

	ControlAttempt resume() {
		return locked(() -> {
			if (state != State.RUNNING) {
				return ControlAttempt.ENDING;
			}
			if (!paused) {
				return ControlAttempt.UNCHANGED;
			}
			paused = false;
			resumed.signalAll();
			return ControlAttempt.CHANGED;
		});
	}

	public boolean isPaused() {
		return locked(() -> paused);
	}

	/**
	 * Called by the generating thread before each token: waits while paused. Once the run
	 * is stopping (or its thread interrupted) it ends generation at once, whether it was
	 * waiting or not.
	 */
	void awaitResumed() throws InterruptedException {
		lock.lock();
		try {
			while (paused && state == State.RUNNING) {
				resumed.await();
			}
			if (state != State.RUNNING || Thread.interrupted()) {
				throw new InterruptedException();
			}
		}
		finally {
			lock.unlock();
		}
	}

	/** Still generating: neither stopping nor ending. */
	boolean isRunning() {
		return locked(() -> state == State.RUNNING);
	}

	/**
	 * Publishes one token unless the run is paused; while paused, waits. Holding
	 * {@code emitting} while publishing lets {@link #awaitQuiet} make sure no token
	 * follows the pause announcement.
	 */
	void emitUnlessPaused(Emission emission) throws InterruptedException {
		while (true) {
			awaitResumed();
			emitting.lock();
			try {
				if (!isPaused()) {
					emission.emit();
					return;
				}
			}
			finally {
				emitting.unlock();
			}
		}
	}

	public boolean isWatched() {
		return watched;
	}

	void watched(boolean watched) {
		this.watched = watched;
	}

	/**
	 * Hands the answer so far and its token count to {@code publish} between two tokens
	 * (under the lock a token's append and publish hold), so the tokens that follow it
	 * continue exactly where it ends; from then on the run's tokens are watched.
	 */
	void snapshot(java.util.function.BiConsumer<String, Integer> publish) {
		emitting.lock();
		try {
			watched = true;
			// the frames before the snapshot first: the next frame starts where it ends
			drainFrames(SNAPSHOT_DRAIN);
			publish.accept(content.toString(), tokens);
		}
		finally {
			emitting.unlock();
		}
	}

	/**
	 * After {@link #pause}: returns once no token is being generated any more and every
	 * frame is out, so nothing follows the pause announcement.
	 */
	void awaitQuiet() {
		emitting.lock();
		emitting.unlock();
		drainFrames(SNAPSHOT_DRAIN);
	}

	/** One token's append and hand-over to the outbox. */
	@FunctionalInterface
	interface Emission {

		void emit() throws InterruptedException;

	}

	/** Runs a pause or resume with its Redis and event side, one at a time per run. */
	<T> T underControl(Supplier<T> action) {
		control.lock();
		try {
			return action.get();
		}
		finally {
			control.unlock();
		}
	}

	/**
	 * The timer that stops the run if it stays paused too long; replaces any previous
	 * one.
	 */
	void pauseTimeout(@Nullable Future<?> timer) {
		Future<?> previous = locked(() -> {
			Future<?> old = pauseTimeout;
			pauseTimeout = timer;
			return old;
		});
		if (previous != null) {
			previous.cancel(false);
		}
	}

	private void remember(@Nullable String replyTo, @Nullable String rawStop) {
		if (replyTo != null) {
			stopReplyTo.add(replyTo);
		}
		if (rawStop != null) {
			rawStops.add(rawStop);
		}
	}

	/**
	 * Marks the current thread as the generating one; false when a stop came first (do
	 * not generate at all).
	 */
	boolean beginGeneration() {
		lock.lock();
		try {
			generating = Thread.currentThread();
			return state == State.RUNNING;
		}
		finally {
			lock.unlock();
		}
	}

	/**
	 * Ends generation: true when the run completes, false when a stop won. Clears any
	 * pending interrupt.
	 */
	boolean endGeneration() {
		lock.lock();
		try {
			generating = null;
			Thread.interrupted();
			if (state == State.RUNNING) {
				state = State.COMPLETING;
				return true;
			}
			cancelledAt = Instant.now();
			return false;
		}
		finally {
			lock.unlock();
		}
	}

	/** Generation is over and the outcome is being recorded. */
	void finishing() {
		finishing = true;
	}

	boolean isFinishing() {
		return finishing;
	}

	/** The gateways that asked for the stop so far. */
	List<String> stopReplyTo() {
		lock.lock();
		try {
			return List.copyOf(stopReplyTo);
		}
		finally {
			lock.unlock();
		}
	}

	/** The recorded stop requests heard so far (exact stop-set members). */
	List<String> recordedStops() {
		lock.lock();
		try {
			return List.copyOf(rawStops);
		}
		finally {
			lock.unlock();
		}
	}

	/**
	 * The run ended as stopped; returns the gateways that asked and the recorded requests
	 * to clear.
	 */
	StopWaiters markStopped(RunEvent.RunStopped event) {
		pauseTimeout(null);
		lock.lock();
		try {
			state = State.DONE;
			stopped = event;
			return new StopWaiters(List.copyOf(stopReplyTo), List.copyOf(rawStops));
		}
		finally {
			lock.unlock();
		}
	}

	List<String> markDone() {
		pauseTimeout(null);
		lock.lock();
		try {
			state = State.DONE;
			return List.copyOf(rawStops);
		}
		finally {
			lock.unlock();
		}
	}

	public @Nullable RunStopped stoppedEvent() {
		return locked(() -> stopped);
	}

	@Nullable Instant stopRequestedAt() {
		return locked(() -> stopRequestedAt);
	}

	@Nullable Instant cancelledAt() {
		return locked(() -> cancelledAt);
	}

	String stopReason() {
		return locked(() -> stopReason != null ? stopReason : "user");
	}

	/**
	 * Only the generating thread appends; readers come after {@link #endGeneration},
	 * under the same lock.
	 */
	int append(String token) {
		content.append(token);
		return tokens++;
	}

	String content() {
		return content.toString();
	}

	int tokens() {
		return tokens;
	}

	/**
	 * A token could not be published; logged once per run so an outage does not flood the
	 * log.
	 */
	void noteLostToken(Throwable cause) {
		if (lostTokens.getAndIncrement() == 0) {
			log.warn("run {} could not publish tokens ({}); generation continues", runId(), cause.toString());
		}
	}

	/** Reads state under the lock that orders stop, interrupt and completion. */
	private <T extends @Nullable Object> T locked(Supplier<T> read) {
		lock.lock();
		try {
			return read.get();
		}
		finally {
			lock.unlock();
		}
	}

	record StopWaiters(List<String> replyTo, List<String> rawStops) {
	}

}
