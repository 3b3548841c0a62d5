package io.stopline.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Jepsen-style history of what clients did and saw during a fault scenario, each
 * operation stamped with {@link System#nanoTime()}: a send and its answer (the run id),
 * every token received, a stop and its answer, the terminal event of a stream. The
 * {@link InvariantChecker} reads it against what Redis holds afterwards.
 */
public final class OperationLog {

	/** What happened. */
	public enum Kind {

		/** a chat request sent (value: the turn's key, {@code conversation#n}) */
		SEND,
		/** the run id the stream named (value), or {@code status:<code>} when refused */
		SEND_ANSWER,
		/** a token delta received (value: its text) */
		TOKEN,
		/** a stop request sent */
		STOP,
		/** the stop's HTTP status (value) */
		STOP_ANSWER,
		/** the stream's end (value: its finish reason, or {@code error}) */
		TERMINAL

	}

	/**
	 * One operation.
	 *
	 * @param turn {@code conversation#n}: the n-th message sent to the conversation
	 */
	public record Op(long nanos, String conversation, String turn, Kind kind, String value) {
	}

	private final ConcurrentLinkedQueue<Op> ops = new ConcurrentLinkedQueue<>();

	private final ConcurrentMap<String, AtomicInteger> turns = new ConcurrentHashMap<>();

	private final ConcurrentMap<String, String> latestTurns = new ConcurrentHashMap<>();

	/**
	 * The key of the next message sent to the conversation ({@code conversation#n}),
	 * which becomes its latest turn.
	 */
	public String nextTurn(String conversation) {
		String turn = conversation + "#"
				+ turns.computeIfAbsent(conversation, key -> new AtomicInteger()).incrementAndGet();
		latestTurns.put(conversation, turn);
		return turn;
	}

	/** The conversation's latest turn (what a stop sent now is aimed at). */
	public String latestTurn(String conversation) {
		return latestTurns.getOrDefault(conversation, conversation + "#0");
	}

	public void record(String conversation, String turn, Kind kind, String value) {
		ops.add(new Op(System.nanoTime(), conversation, turn, kind, value));
	}

	/** Every operation, in the order recorded. */
	public List<Op> ops() {
		return new ArrayList<>(ops);
	}

	public long count(Kind kind) {
		return ops.stream().filter(op -> op.kind() == kind).count();
	}

}
