package io.stopline.gateway.chat;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;

import io.stopline.protocol.RunEvent;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.run.RunRecord;
import io.stopline.protocol.HistoryMessage;
import org.jspecify.annotations.Nullable;

/**
 * A chat request in flight on this gateway: its run and the events that arrive for it.
 */
final class ChatSession {

	private final RunRecord run;

	private final BlockingQueue<RunEvent> events;

	private final Runnable onClose;

	/** Read and written by one check at a time ({@link #beginCheck}). */
	private volatile long missingSince;

	private final AtomicBoolean checking = new AtomicBoolean();

	/** When its stream began waiting for the next event (nanoTime), 0 while not. */
	private volatile long waitingSince;

	private volatile boolean tracked;

	private volatile boolean closed;

	/** Whether any event of the run reached this session. */
	private volatile boolean heard;

	/**
	 * What reserved the run, to reserve it again once should Redis lose the reservation
	 * before anything of the run was heard; null for a joined or waiting run, and once
	 * used.
	 */
	private volatile @Nullable Request request;

	/**
	 * The reservation's inputs: the user's message, the job and its announcement.
	 */
	record Request(HistoryMessage userMessage, String job, ConversationRegistry.Enqueue enqueue) {
	}

	ChatSession(RunRecord run, BlockingQueue<RunEvent> events, Runnable onClose) {
		this.run = run;
		this.events = events;
		this.onClose = onClose;
	}

	/** A session whose run has ended already: {@code end} is its only event. */
	static ChatSession ended(RunRecord run, RunEvent end) {
		BlockingQueue<RunEvent> events = new java.util.concurrent.LinkedBlockingQueue<>();
		events.add(end);
		return new ChatSession(run, events, () -> {
		});
	}

	/** Stops collecting the run's events. */
	void close() {
		closed = true;
		onClose.run();
	}

	boolean isClosed() {
		return closed;
	}

	/** True the first time only: the recovery tick starts watching this session. */
	boolean track() {
		if (tracked) {
			return false;
		}
		tracked = true;
		return true;
	}

	void waitingSince(long nanos) {
		waitingSince = nanos;
	}

	long waitingSince() {
		return waitingSince;
	}

	RunRecord run() {
		return run;
	}

	String conversationId() {
		return run.conversationId();
	}

	/**
	 * Notes that the run's record was missing at a check; returns for how long it has
	 * been missing without a break.
	 */
	Duration missingFor() {
		long now = System.nanoTime();
		if (missingSince == 0) {
			missingSince = now;
		}
		return Duration.ofNanos(now - missingSince);
	}

	void found() {
		missingSince = 0;
	}

	/** Moves the events already waiting into {@code into}, without waiting. */
	void drainTo(java.util.Collection<RunEvent> into) {
		if (events.drainTo(into) > 0) {
			heard();
		}
	}

	/** The next event if one is waiting, else null. */
	@Nullable RunEvent pollNow() {
		RunEvent event = events.poll();
		if (event != null) {
			heard();
		}
		return event;
	}

	/** The next event, waiting as long as it takes. */
	RunEvent take() throws InterruptedException {
		RunEvent event = events.take();
		heard();
		return event;
	}

	/** An event of the run arrived: it is never reserved again, so its request goes. */
	private void heard() {
		heard = true;
		request = null;
	}

	/** Keeps what reserved the run (see {@link #takeRequest}). */
	void keep(Request reserved) {
		request = reserved;
	}

	/**
	 * What reserved the run, once, and only while nothing of the run was heard: a run
	 * whose events reached the client may have generated, and is never queued again.
	 */
	@Nullable Request takeRequest() {
		Request kept = request;
		request = null;
		return heard ? null : kept;
	}

	/** Whether a request is kept and nothing of the run was heard. */
	boolean mayReserveAgain() {
		return request != null && !heard;
	}

	/** Adds an event found by a check (the end of a run this gateway did not hear). */
	void offer(RunEvent event) {
		events.offer(event);
	}

	/** False while a check of this session's run is under way already. */
	boolean beginCheck() {
		return checking.compareAndSet(false, true);
	}

	void endCheck() {
		checking.set(false);
	}

}
