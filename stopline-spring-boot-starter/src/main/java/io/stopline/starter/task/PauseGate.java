package io.stopline.starter.task;

import java.util.concurrent.Future;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

/**
 * The pause of one run: the generating thread passes the gate before each token and waits
 * while it is paused (with an upstream model it stops reading the stream, so TCP flow
 * control holds the upstream back). Once the run stops the gate is closed: a waiting or
 * arriving generation ends at once. Tokens pass one at a time under a lock of their own,
 * so a pause can wait until none is in flight before it is announced.
 */
public final class PauseGate {

	private final ReentrantLock lock = new ReentrantLock();

	private final Condition opened = lock.newCondition();

	/**
	 * One token's append and hand-over, exclusive with snapshots and pause announcements.
	 */
	private final ReentrantLock passing = new ReentrantLock();

	/**
	 * Serializes pause and resume of the run end to end (state, Redis record, events), so
	 * two quick commands cannot leave the record saying the opposite of the task.
	 */
	private final ReentrantLock control = new ReentrantLock();

	private final Runnable drainFrames;

	private boolean paused;

	private boolean closed;

	private @Nullable Future<?> timeout;

	/**
	 * @param drainFrames sends the frames still pending and waits until Redis took them
	 */
	PauseGate(Runnable drainFrames) {
		this.drainFrames = drainFrames;
	}

	/** One token's append and hand-over to the outbox. */
	@FunctionalInterface
	interface Emission {

		void emit() throws InterruptedException;

	}

	/**
	 * Pauses the run at its next token. A stop still interrupts it at once.
	 */
	public ControlAttempt pause() {
		return locked(() -> {
			if (closed) {
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
	public ControlAttempt resumable() {
		return locked(
				() -> closed ? ControlAttempt.ENDING : paused ? ControlAttempt.CHANGED : ControlAttempt.UNCHANGED);
	}

	public ControlAttempt resume() {
		return locked(() -> {
			if (closed) {
				return ControlAttempt.ENDING;
			}
			if (!paused) {
				return ControlAttempt.UNCHANGED;
			}
			paused = false;
			opened.signalAll();
			return ControlAttempt.CHANGED;
		});
	}

	public boolean isPaused() {
		return locked(() -> paused);
	}

	/**
	 * The run stops or its generation ended: wake a waiting generation, let none through
	 * any more, refuse pauses and resumes ({@link ControlAttempt#ENDING}).
	 */
	void close() {
		locked(() -> {
			closed = true;
			opened.signalAll();
			return null;
		});
	}

	/**
	 * Called by the generating thread before each token: waits while paused. Once the
	 * gate is closed (or the thread interrupted) it ends generation at once, whether it
	 * was waiting or not.
	 */
	void await() throws InterruptedException {
		lock.lock();
		try {
			while (paused && !closed) {
				opened.await();
			}
			if (closed || Thread.interrupted()) {
				throw new InterruptedException();
			}
		}
		finally {
			lock.unlock();
		}
	}

	/**
	 * Passes one token unless the run is paused; while paused, waits. Holding the token
	 * lock while it is handed over lets {@link #awaitQuiet} make sure no token follows
	 * the pause announcement.
	 */
	void pass(Emission emission) throws InterruptedException {
		while (true) {
			await();
			passing.lock();
			try {
				if (!isPaused()) {
					emission.emit();
					return;
				}
			}
			finally {
				passing.unlock();
			}
		}
	}

	/** Runs {@code between} between two tokens: no token is handed over meanwhile. */
	void betweenTokens(Runnable between) {
		passing.lock();
		try {
			between.run();
		}
		finally {
			passing.unlock();
		}
	}

	/**
	 * After {@link #pause}: returns once no token is being passed any more and every
	 * frame is out, so nothing follows the pause announcement.
	 */
	public void awaitQuiet() {
		passing.lock();
		passing.unlock();
		drainFrames.run();
	}

	/** Runs a pause or resume with its Redis and event side, one at a time per run. */
	public <T> T underControl(Supplier<T> action) {
		control.lock();
		try {
			return action.get();
		}
		finally {
			control.unlock();
		}
	}

	/**
	 * The timer that stops the run if it stays paused too long; replaces (and cancels)
	 * any previous one.
	 */
	public void timeout(@Nullable Future<?> timer) {
		Future<?> previous = locked(() -> {
			Future<?> old = timeout;
			timeout = timer;
			return old;
		});
		if (previous != null) {
			previous.cancel(false);
		}
	}

	private <T extends @Nullable Object> T locked(Supplier<T> read) {
		lock.lock();
		try {
			return read.get();
		}
		finally {
			lock.unlock();
		}
	}

}
