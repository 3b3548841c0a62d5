package io.stopline.gateway.chat;

import java.util.Map;
import java.util.TreeMap;

import io.stopline.protocol.RunEvent;

/**
 * Puts a run's token frames back in the order the model produced them (their index) and
 * remembers the text delivered, so the end of a stream can be reconciled with the
 * recorded answer. One per stream, used by one thread.
 */
final class TokenOrder {

	private final Map<Integer, RunEvent.TokenGenerated> early = new TreeMap<>();

	private final StringBuilder delivered = new StringBuilder();

	private int next;

	/** For a stream from the start of the answer. */
	TokenOrder() {
		this(0, "");
	}

	/**
	 * For a stream whose client holds {@code delivered}, the first {@code next} tokens (a
	 * resumed stream).
	 */
	TokenOrder(int next, String delivered) {
		this.next = next;
		this.delivered.append(delivered);
	}

	/** The index of the next token to deliver: the tokens delivered so far. */
	int next() {
		return next;
	}

	/**
	 * The text that can be delivered now, in order: this frame's and that of any early
	 * frames it unblocks (empty when it must wait for an earlier one, or was delivered
	 * already).
	 */
	String accept(RunEvent.TokenGenerated frame) {
		if (frame.index() < next) {
			return "";
		}
		if (frame.index() == next && early.isEmpty()) {
			// the usual case, a frame in order with none waiting: no map, no copy
			delivered.append(frame.text());
			next = frame.next();
			return frame.text();
		}
		early.put(frame.index(), frame);
		StringBuilder ready = new StringBuilder();
		RunEvent.TokenGenerated due;
		while ((due = early.remove(next)) != null) {
			ready.append(due.text());
			next = due.next();
		}
		delivered.append(ready);
		return ready.toString();
	}

	/**
	 * The answer so far ({@code tokens} tokens make {@code content}), for a stream that
	 * joined a run mid-way: returns what of it was not delivered yet; the frames from
	 * index {@code tokens} on follow it.
	 */
	String snapshot(String content, int tokens) {
		if (tokens <= next || !content.startsWith(delivered.toString())) {
			return "";
		}
		String ready = content.substring(delivered.length());
		delivered.append(ready);
		next = tokens;
		early.keySet().removeIf(index -> index < tokens);
		StringBuilder more = new StringBuilder();
		RunEvent.TokenGenerated due;
		while ((due = early.remove(next)) != null) {
			more.append(due.text());
			next = due.next();
		}
		delivered.append(more);
		return ready + more;
	}

	/**
	 * What of the recorded answer has not been delivered; empty when the stream already
	 * holds all of it.
	 */
	String rest(String recorded) {
		String sent = delivered.toString();
		return recorded.startsWith(sent) ? recorded.substring(sent.length()) : "";
	}

}
