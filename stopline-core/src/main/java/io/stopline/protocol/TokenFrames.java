package io.stopline.protocol;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import io.stopline.protocol.RunEvent.TokenGenerated;

/**
 * The compact encoding of a batch of token frames, one message on a gateway's token
 * channel ({@code stopline:{g:<gateway>}:tokens}) carrying the frames of every run a
 * worker had ready for that gateway: no JSON tree per frame, no escaping, one string
 * built and one scanned. A watched run's frames take the same form on its conversation's
 * event channel, one frame per message, among the JSON events ({@link #decodeEvents}).
 *
 * <pre>
 * T1                                           version tag
 * then per frame:  |&lt;len&gt;|&lt;runId&gt;|&lt;len&gt;|&lt;conversationId&gt;|&lt;index&gt;|&lt;count&gt;|&lt;epochMicros&gt;|&lt;len&gt;|&lt;text&gt;
 * </pre>
 *
 * Numbers are decimal; every string is preceded by its length in UTF-16 chars, so it may
 * contain anything (the separator included) and needs no escaping. A message that starts
 * with <code>{</code> is a single frame in JSON (a node of the previous version):
 * {@link #decode} reads both.
 */
public final class TokenFrames {

	static final String TAG = "T1";

	private static final char SEP = '|';

	private TokenFrames() {
	}

	public static String encode(List<TokenGenerated> frames) {
		int size = TAG.length();
		for (TokenGenerated frame : frames) {
			size += frame.runId().length() + frame.conversationId().length() + frame.text().length() + 48;
		}
		StringBuilder out = new StringBuilder(size).append(TAG);
		for (TokenGenerated frame : frames) {
			Instant at = frame.at();
			long micros = at.getEpochSecond() * 1_000_000 + at.getNano() / 1_000;
			string(out, frame.runId());
			string(out, frame.conversationId());
			out.append(SEP).append(frame.index()).append(SEP).append(frame.count()).append(SEP).append(micros);
			string(out, frame.text());
		}
		return out.toString();
	}

	/**
	 * The frames of a message, in the order they were encoded.
	 * @throws IllegalArgumentException when the message is neither a batch nor a JSON
	 * token frame
	 */
	public static List<TokenGenerated> decode(String message) {
		if (message.startsWith("{")) {
			if (Json.read(message, RunEvent.class) instanceof TokenGenerated frame) {
				return List.of(frame);
			}
			throw new IllegalArgumentException("not a token frame");
		}
		if (!message.startsWith(TAG)) {
			throw new IllegalArgumentException("not a token frame batch");
		}
		List<TokenGenerated> frames = new ArrayList<>();
		Reader in = new Reader(message, TAG.length());
		while (in.more()) {
			String runId = in.string();
			String conversationId = in.string();
			int index = (int) in.number();
			int count = (int) in.number();
			long micros = in.number();
			String text = in.string();
			frames.add(new TokenGenerated(runId, conversationId, index, text, count, Instant
				.ofEpochSecond(Math.floorDiv(micros, 1_000_000), Math.floorMod(micros, 1_000_000) * 1_000L)));
		}
		return frames;
	}

	/**
	 * A message of a conversation's event channel: a run event in JSON, or token frames
	 * in this encoding (what a worker publishes for a watched run's tokens).
	 * @throws IllegalArgumentException when the message is neither
	 */
	public static List<RunEvent> decodeEvents(String message) {
		if (message.startsWith(TAG)) {
			return Collections.unmodifiableList(decode(message));
		}
		try {
			return List.of(Json.read(message, RunEvent.class));
		}
		catch (RuntimeException ex) {
			throw new IllegalArgumentException("neither a run event nor token frames", ex);
		}
	}

	private static void string(StringBuilder out, String value) {
		out.append(SEP).append(value.length()).append(SEP).append(value);
	}

	/** A cursor over a batch: each field starts after a separator. */
	private static final class Reader {

		private final String message;

		private int at;

		Reader(String message, int at) {
			this.message = message;
			this.at = at;
		}

		boolean more() {
			return at < message.length();
		}

		String string() {
			return chars((int) number());
		}

		long number() {
			int start = expectSeparator();
			long value = 0;
			boolean negative = at < message.length() && message.charAt(at) == '-';
			if (negative) {
				at++;
			}
			while (at < message.length() && message.charAt(at) != SEP) {
				char digit = message.charAt(at++);
				if (digit < '0' || digit > '9') {
					throw new IllegalArgumentException("bad number in token frame batch");
				}
				value = value * 10 + (digit - '0');
			}
			if (at == start || (negative && at == start + 1)) {
				throw new IllegalArgumentException("empty number in token frame batch");
			}
			return negative ? -value : value;
		}

		String chars(int length) {
			int start = expectSeparator();
			if (length < 0 || start + length > message.length()) {
				throw new IllegalArgumentException("truncated token frame batch");
			}
			at = start + length;
			return message.substring(start, at);
		}

		private int expectSeparator() {
			if (at >= message.length() || message.charAt(at) != SEP) {
				throw new IllegalArgumentException("malformed token frame batch");
			}
			return ++at;
		}

	}

}
