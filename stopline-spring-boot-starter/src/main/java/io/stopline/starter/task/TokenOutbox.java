package io.stopline.starter.task;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import io.stopline.protocol.RunEvent.TokenGenerated;
import org.jspecify.annotations.Nullable;

/**
 * A run's tokens on their way to Redis, in frames: one publish carries every token
 * generated since the previous one. The first token of a run, and a token that comes
 * after {@code linger} without a frame, leave at once; the others wait at most
 * {@code linger} (or until {@code maxFrameChars}). At most one frame is in flight, so
 * frames never overtake each other, and the tokens that arrive while one is in flight
 * join the next: a busy Redis gets fewer, larger frames instead of a queue.
 *
 * <p>
 * The generating thread never waits for Redis here: {@link #append} only buffers or
 * starts an asynchronous publish. Whoever must know the tokens are out before saying
 * something else (a pause announcement, a snapshot, the run's end) calls {@link #drain}.
 */
final class TokenOutbox {

	/**
	 * Publishes one frame; the stage completes when Redis has taken it. {@code urgent}: a
	 * run's first frame or a drain, which must not wait for other runs' frames. A stage
	 * that is a {@link FrameLanes.Ticket} may be withdrawn by a stop before it leaves.
	 */
	@FunctionalInterface
	interface Publisher {

		CompletionStage<?> publish(TokenGenerated frame, boolean urgent);

	}

	private final ReentrantLock lock = new ReentrantLock();

	private final Condition idle = lock.newCondition();

	private final String runId;

	private final String conversationId;

	private final Publisher publisher;

	private final ScheduledExecutorService timers;

	private final long lingerNanos;

	private final int maxFrameChars;

	private final Consumer<Throwable> onLost;

	private final StringBuilder pending = new StringBuilder();

	private int pendingFirst;

	private int pendingCount;

	private int sentTokens;

	private int sentChars;

	private boolean inFlight;

	private boolean draining;

	private long lastFrameAt;

	private boolean framed;

	/** The frame in flight: what a stop takes back when it has not left yet. */
	private @Nullable CompletionStage<?> inFlightStage;

	private int inFlightTokens;

	private int inFlightChars;

	private @Nullable ScheduledFuture<?> timer;

	TokenOutbox(String runId, String conversationId, Publisher publisher, ScheduledExecutorService timers,
			Duration linger, int maxFrameChars, Consumer<Throwable> onLost) {
		this.runId = runId;
		this.conversationId = conversationId;
		this.publisher = publisher;
		this.timers = timers;
		this.lingerNanos = linger.toNanos();
		this.maxFrameChars = maxFrameChars;
		this.onLost = onLost;
	}

	/**
	 * Holds the frames back until {@code announcement} is out (the run's start, which the
	 * watchers must see before its first token).
	 */
	void after(CompletionStage<?> announcement) {
		lock.lock();
		try {
			inFlight = true;
			inFlightStage = announcement;
		}
		finally {
			lock.unlock();
		}
		announcement.whenComplete((ignored, error) -> sent(announcement, null));
	}

	/** The token with index {@code index}; never blocks on Redis. */
	void append(String token, int index) {
		lock.lock();
		try {
			if (pendingCount == 0) {
				pendingFirst = index;
			}
			pending.append(token);
			pendingCount++;
			if (!inFlight) {
				sendOrWait(System.nanoTime());
			}
		}
		finally {
			lock.unlock();
		}
	}

	/**
	 * Sends what is pending and waits (at most {@code bound}) until every frame is taken
	 * by Redis. False when the bound ran out first.
	 */
	boolean drain(Duration bound) {
		long left = bound.toNanos();
		lock.lock();
		try {
			draining = true;
			if (!inFlight && pendingCount > 0) {
				send(System.nanoTime());
			}
			else if (inFlightStage instanceof FrameLanes.Ticket ticket) {
				// a frame waiting in its lane for other runs' frames: now
				ticket.hurry();
			}
			while (inFlight || pendingCount > 0) {
				if (left <= 0) {
					return false;
				}
				left = idle.awaitNanos(left);
			}
			return true;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
		finally {
			draining = false;
			lock.unlock();
		}
	}

	/**
	 * A stop: the tokens not yet sent are dropped (nobody saw them), the frame in flight
	 * is awaited (at most {@code bound}). Returns what was sent: the recorded answer is
	 * exactly the streamed one.
	 */
	Sent discardPending(Duration bound) {
		lock.lock();
		try {
			pending.setLength(0);
			pendingCount = 0;
			cancelTimer();
			if (inFlight && inFlightStage instanceof FrameLanes.Ticket ticket && ticket.withdraw()) {
				// still waiting in its lane: it never leaves, so nobody saw it either
				sentTokens -= inFlightTokens;
				sentChars -= inFlightChars;
				inFlight = false;
				inFlightStage = null;
			}
			long left = bound.toNanos();
			while (inFlight && left > 0) {
				left = idle.awaitNanos(left);
			}
			return new Sent(sentTokens, sentChars);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return new Sent(sentTokens, sentChars);
		}
		finally {
			lock.unlock();
		}
	}

	/** Tokens and characters handed to Redis so far. */
	record Sent(int tokens, int chars) {
	}

	/** Under the lock, nothing in flight, something pending. */
	private void sendOrWait(long now) {
		long waited = now - lastFrameAt;
		if (!framed || draining || waited >= lingerNanos || pending.length() >= maxFrameChars) {
			send(now);
		}
		else if (timer == null) {
			timer = timers.schedule(this::timerFired, lingerNanos - waited, TimeUnit.NANOSECONDS);
		}
	}

	private void send(long now) {
		cancelTimer();
		TokenGenerated frame = new TokenGenerated(runId, conversationId, pendingFirst, pending.toString(), pendingCount,
				Instant.now());
		boolean urgent = !framed || draining;
		sentTokens += pendingCount;
		sentChars += pending.length();
		inFlightTokens = pendingCount;
		inFlightChars = pending.length();
		pending.setLength(0);
		pendingCount = 0;
		framed = true;
		lastFrameAt = now;
		inFlight = true;
		CompletionStage<?> published;
		try {
			published = publisher.publish(frame, urgent);
		}
		catch (RuntimeException ex) {
			published = CompletableFuture.failedFuture(ex);
		}
		inFlightStage = published;
		CompletionStage<?> mine = published;
		published.whenComplete((ignored, error) -> sent(mine, error));
	}

	private void sent(CompletionStage<?> stage, @Nullable Throwable error) {
		if (error != null) {
			// Redis unreachable: the run goes on and its whole text reaches the history
			// when it ends; only the live stream misses these tokens
			onLost.accept(error);
		}
		lock.lock();
		try {
			if (inFlightStage != null && inFlightStage != stage) {
				return;
			}
			inFlightStage = null;
			inFlight = false;
			if (pendingCount > 0) {
				sendOrWait(System.nanoTime());
			}
			if (!inFlight) {
				idle.signalAll();
			}
		}
		finally {
			lock.unlock();
		}
	}

	private void timerFired() {
		lock.lock();
		try {
			timer = null;
			if (!inFlight && pendingCount > 0) {
				send(System.nanoTime());
			}
		}
		finally {
			lock.unlock();
		}
	}

	private void cancelTimer() {
		if (timer != null) {
			timer.cancel(false);
			timer = null;
		}
	}

}
