package io.stopline.starter.task;

import java.time.Duration;
import java.time.Instant;

import io.stopline.core.events.RunEvents;
import io.stopline.protocol.RunEvent;
import io.stopline.protocol.StartRun;

/**
 * What a {@link Generation} sees of its run: the job, the token path (through the pause
 * gate and the stop check), and the run's event channel for events that must follow the
 * tokens before them.
 */
public final class RunScope {

	private static final Duration DRAIN_BOUND = Duration.ofSeconds(2);

	private final RunningTask task;

	private final RunEvents events;

	private final TokenPath tokens;

	RunScope(RunningTask task, RunEvents events, TokenPath tokens) {
		this.task = task;
		this.events = events;
		this.tokens = tokens;
	}

	public StartRun job() {
		return task.job();
	}

	/**
	 * Hands one token to the run: kept in the answer and streamed. Waits while the run is
	 * paused; throws once it is stopping.
	 */
	public void emit(String token) throws InterruptedException {
		tokens.emit(token);
	}

	/**
	 * The connection to the upstream is closed (a stop's receipt reports when);
	 * generations without one never call it.
	 */
	public void upstreamClosed() {
		task.upstreamClosed(Instant.now());
	}

	/** Waits while the run is paused (before a model turn); throws once it stops. */
	public void awaitResumed() throws InterruptedException {
		task.awaitResumed();
	}

	/**
	 * Sends an event of the run (a tool call's start or end) to its gateway, after the
	 * tokens that came before it; a failure is noted, never thrown.
	 */
	public void publish(RunEvent event) {
		task.drainFrames(DRAIN_BOUND);
		try {
			events.publish(task.userId(), task.job().replyTo(), event);
		}
		catch (RuntimeException ex) {
			task.noteLostToken(ex);
		}
	}

	/** The runner's side of {@link #emit}. */
	@FunctionalInterface
	interface TokenPath {

		void emit(String token) throws InterruptedException;

	}

}
