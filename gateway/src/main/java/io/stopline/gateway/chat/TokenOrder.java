package io.stopline.gateway.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.stopline.protocol.RunEvent;

/**
 * Puts a run's tokens back in the order the model produced them (their index) and
 * remembers the text delivered, so the end of a stream can be reconciled with the
 * recorded answer. One per stream, used by one thread.
 */
final class TokenOrder {

	private final Map<Integer, String> early = new TreeMap<>();

	private final StringBuilder delivered = new StringBuilder();

	private int next;

	/**
	 * The texts that can be delivered now, in order: this token and any early ones it
	 * unblocks.
	 */
	List<String> accept(RunEvent.TokenGenerated token) {
		if (token.index() < next) {
			return List.of();
		}
		early.put(token.index(), token.text());
		List<String> ready = new ArrayList<>();
		String text;
		while ((text = early.remove(next)) != null) {
			ready.add(text);
			delivered.append(text);
			next++;
		}
		return ready;
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
