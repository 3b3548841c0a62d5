package io.stopline.worker.model;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

import org.springframework.core.io.buffer.DataBuffer;

/**
 * Keeps a run's NDJSON body (Ollama's) from being read far ahead of what the run took, so
 * that a pause holds the upstream back. Spring AI's Ollama stream asks its body for more
 * than its subscriber's demand (its {@code windowUntil}/{@code flatMap} chain: over 3,000
 * buffers of 1 KB before a pause took effect in every run measured, the whole 400,000
 * token answer in 2 of 8), so a body buffer is let through only while the lines let
 * through are at most {@value #LINES} ahead of the responses the run took, or while the
 * run is waiting for one (a merged or skipped line never blocks the stream).
 */
final class ReadAhead {

	static final int LINES = 256;

	private long lines;

	private long taken;

	private boolean waiting;

	private Sinks.@Nullable Empty<Void> held;

	/** Completes when {@code buffer} may go on to the decoders. */
	Mono<Void> admit(DataBuffer buffer) {
		int count = 0;
		for (int i = buffer.readPosition(); i < buffer.writePosition(); i++) {
			count += (buffer.getByte(i) == '\n') ? 1 : 0;
		}
		synchronized (this) {
			lines += count;
			if (open()) {
				return Mono.empty();
			}
			held = Sinks.empty();
			return held.asMono();
		}
	}

	/** The run took a response. */
	void took() {
		synchronized (this) {
			taken++;
		}
		release();
	}

	/** The run waits for a response ({@code true}) or got one. */
	void waiting(boolean waiting) {
		synchronized (this) {
			this.waiting = waiting;
		}
		release();
	}

	private void release() {
		Sinks.Empty<Void> released;
		synchronized (this) {
			if (held == null || !open()) {
				return;
			}
			released = held;
			held = null;
		}
		released.tryEmitEmpty();
	}

	private boolean open() {
		return waiting || lines - taken <= LINES;
	}

}
