package io.stopline.protocol;

import java.util.Arrays;

/**
 * Where each frame of a run's answer ends: frame {@code i} carries {@code tokens[i]}
 * tokens and {@code chars[i]} characters of the text. A token index that ends a frame
 * (the index an SSE event id or a WebSocket frame names) thus maps to a position in the
 * answer, which is what a resumed stream starts from. Two small numbers per frame, in the
 * order the frames were published.
 *
 * @param tokens the token count of each frame
 * @param chars the text length of each frame
 */
public record TokenOffsets(int[] tokens, int[] chars) {

	public static final TokenOffsets NONE = new TokenOffsets(new int[0], new int[0]);

	public TokenOffsets {
		tokens = tokens == null ? new int[0] : tokens;
		chars = chars == null ? new int[0] : chars;
		if (tokens.length != chars.length) {
			throw new IllegalArgumentException("tokens and chars of different lengths");
		}
	}

	/** Tokens of all frames. */
	public int totalTokens() {
		return Arrays.stream(tokens).sum();
	}

	/**
	 * The position in the answer where the token with index {@code tokenIndex} starts,
	 * when a frame ends just before it (0 for 0); -1 when no frame ends there.
	 */
	public int charsAt(int tokenIndex) {
		int token = 0;
		int at = 0;
		for (int i = 0; i < tokens.length && token < tokenIndex; i++) {
			token += tokens[i];
			at += chars[i];
		}
		return token == tokenIndex ? at : -1;
	}

	/**
	 * Collects the frames of a running run as they are published; read by other threads
	 * (a snapshot, the run's end).
	 */
	public static final class Recorder {

		private int[] tokens = new int[64];

		private int[] chars = new int[64];

		private int frames;

		public synchronized void add(int frameTokens, int frameChars) {
			if (frames == tokens.length) {
				tokens = Arrays.copyOf(tokens, frames * 2);
				chars = Arrays.copyOf(chars, frames * 2);
			}
			tokens[frames] = frameTokens;
			chars[frames] = frameChars;
			frames++;
		}

		/** The frames that make up the first {@code tokenCount} tokens. */
		public synchronized TokenOffsets upTo(int tokenCount) {
			int n = 0;
			int token = 0;
			while (n < frames && token + tokens[n] <= tokenCount) {
				token += tokens[n];
				n++;
			}
			return new TokenOffsets(Arrays.copyOf(tokens, n), Arrays.copyOf(chars, n));
		}

	}

}
