package io.stopline.starter.task;

import java.time.Instant;
import java.util.List;

import io.stopline.protocol.HistoryMessage;
import io.stopline.protocol.ToolCallRecord;

/**
 * What produces a run's tokens: a model streaming an answer, a subscribed {@code Flux},
 * anything else. The {@link TaskRunner} calls {@link #generate} once, on the run's own
 * virtual thread, after the run is claimed; a stop interrupts that thread, so an
 * implementation must end promptly with {@link InterruptedException} (or return) when it
 * is interrupted, and release its upstream (close the connection, cancel the
 * subscription) on the way out.
 */
@FunctionalInterface
public interface Generation {

	/**
	 * Hands each token to {@link RunScope#emit}, which waits while the run is paused and
	 * throws once it is stopping. A {@link GenerationFailure} ends the run as failed with
	 * its message; any other exception too, with a message that says nothing of it.
	 */
	void generate(RunScope run) throws InterruptedException;

	/**
	 * Whether every token emitted reached its reader as it passed (a {@code Flux}'s
	 * subscriber): a stop then keeps them all. False (the worker's agents): the client
	 * reads the run's frames, and a stop keeps exactly what was framed, dropping what
	 * nobody saw.
	 */
	default boolean keepsEveryToken() {
		return false;
	}

	/** The tool calls the generation made, for the stop event; none by default. */
	default List<ToolCallRecord> toolCalls() {
		return List.of();
	}

	/** One {@code tool} message per call, for the history; none by default. */
	default List<HistoryMessage> toolHistory(String runId, Instant at) {
		return List.of();
	}

}
