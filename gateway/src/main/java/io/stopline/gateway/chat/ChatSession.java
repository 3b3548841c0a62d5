package io.stopline.gateway.chat;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import io.stopline.protocol.RunEvent;
import io.stopline.core.run.RunRecord;
import org.jspecify.annotations.Nullable;

/**
 * A chat request in flight on this gateway: its run and the events that arrive for it.
 */
final class ChatSession {

	private final RunRecord run;

	private final BlockingQueue<RunEvent> events;

	private final Runnable onClose;

	private long missingSince;

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
		onClose.run();
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
		events.drainTo(into);
	}

	/** The next event, or null when none came within {@code wait}. */
	@Nullable RunEvent poll(Duration wait) throws InterruptedException {
		return events.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
	}

}
