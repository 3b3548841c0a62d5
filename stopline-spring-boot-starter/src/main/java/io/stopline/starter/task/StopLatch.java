package io.stopline.starter.task;

import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

import io.stopline.protocol.RunEvent.RunStopped;
import io.stopline.protocol.StopReason;
import org.jspecify.annotations.Nullable;

/**
 * The stop/complete race of one run: RUNNING, then STOPPING (a stop won) or COMPLETING
 * (the model finished first), then DONE. One lock gives the race exactly one winner and
 * makes the interrupt land only while the model is generating, never during the
 * bookkeeping that follows. It also collects what a stop needs to be answered: the
 * gateways waiting for the confirmation, the recorded requests to clear and the stage
 * timestamps, handed to the runner as one {@link Stopped} value.
 */
final class StopLatch {

	enum State {

		RUNNING, STOPPING, COMPLETING, DONE

	}

	private final ReentrantLock lock = new ReentrantLock();

	private final Runnable onStop;

	private State state = State.RUNNING;

	private @Nullable StopReason reason;

	private @Nullable Instant requestedAt;

	private @Nullable Instant deliveredAt;

	private @Nullable Integer seenTokens;

	private @Nullable Thread generating;

	private final Set<String> replyTo = new LinkedHashSet<>();

	private final Set<String> recordedStops = new LinkedHashSet<>();

	private @Nullable RunStopped stopped;

	/**
	 * @param onStop runs once, under the latch, when the first stop is accepted (it
	 * releases a paused generation)
	 */
	StopLatch(Runnable onStop) {
		this.onStop = onStop;
	}

	/**
	 * The first accepted request interrupts the generation; later ones only add the
	 * gateway to notify and the recorded request to clear.
	 */
	StopAttempt request(StopReason why, @Nullable String gateway, @Nullable String recordedStop, Instant origin,
			@Nullable Integer seen) {
		lock.lock();
		try {
			return switch (state) {
				case RUNNING -> {
					state = State.STOPPING;
					reason = why;
					requestedAt = origin;
					deliveredAt = Instant.now();
					seenTokens = seen;
					remember(gateway, recordedStop);
					onStop.run();
					if (generating != null) {
						generating.interrupt();
					}
					yield StopAttempt.ACCEPTED;
				}
				case STOPPING -> {
					remember(gateway, recordedStop);
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

	private void remember(@Nullable String gateway, @Nullable String recordedStop) {
		if (gateway != null) {
			replyTo.add(gateway);
		}
		if (recordedStop != null) {
			recordedStops.add(recordedStop);
		}
	}

	/**
	 * Marks the current thread as the generating one; false when a stop came first (do
	 * not generate at all).
	 */
	boolean begin() {
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
	 * Ends generation and clears any pending interrupt: null when the run completes (the
	 * model finished first), else the stop that won.
	 */
	@Nullable Stopped end() {
		lock.lock();
		try {
			generating = null;
			Thread.interrupted();
			if (state == State.RUNNING) {
				state = State.COMPLETING;
				return null;
			}
			return new Stopped(reason(), requestedAt == null ? Instant.now() : requestedAt,
					deliveredAt == null ? Instant.now() : deliveredAt, Instant.now(), List.copyOf(replyTo),
					List.copyOf(recordedStops), seenTokens);
		}
		finally {
			lock.unlock();
		}
	}

	/**
	 * The stopped run's outcome is written: from now on a stop is answered with
	 * {@code event}. Returns what asked since {@code taken} was handed out.
	 */
	Stopped.Late settle(Stopped taken, RunStopped event) {
		lock.lock();
		try {
			state = State.DONE;
			stopped = event;
			return new Stopped.Late(replyTo.stream().filter(gateway -> !taken.replyTo().contains(gateway)).toList(),
					recordedStops.stream().filter(raw -> !taken.recordedStops().contains(raw)).toList());
		}
		finally {
			lock.unlock();
		}
	}

	/** The run completed or failed; returns every recorded request heard. */
	List<String> settle() {
		lock.lock();
		try {
			state = State.DONE;
			return List.copyOf(recordedStops);
		}
		finally {
			lock.unlock();
		}
	}

	/**
	 * The recorded requests heard so far (a completing run clears them with its write).
	 */
	List<String> recordedStops() {
		lock.lock();
		try {
			return List.copyOf(recordedStops);
		}
		finally {
			lock.unlock();
		}
	}

	/** Neither stopping nor ending. */
	boolean isRunning() {
		lock.lock();
		try {
			return state == State.RUNNING;
		}
		finally {
			lock.unlock();
		}
	}

	@Nullable RunStopped stopped() {
		lock.lock();
		try {
			return stopped;
		}
		finally {
			lock.unlock();
		}
	}

	private StopReason reason() {
		return reason != null ? reason : StopReason.USER;
	}

}
