package io.stopline.starter.task;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code stopline.worker.frames.*}: how a run's tokens are grouped into frames (one
 * publish each).
 *
 * @param linger the longest a token waits for others to join its frame (a run's first
 * token, and one after a quiet spell of this length, never wait)
 * @param maxChars a frame this long leaves at once
 * @param batchInterval the frames of all runs streamed through one gateway leave
 * together, in one pipelined write at most this often (a frame that finds its gateway's
 * lane quiet this long, and a run's first frame, leave at once)
 */
@ConfigurationProperties("stopline.worker.frames")
public record TokenFrameProperties(@DefaultValue("15ms") Duration linger, @DefaultValue("4096") int maxChars,
		@DefaultValue("2ms") Duration batchInterval) {

	public TokenFrameProperties {
		if (linger.isNegative()) {
			throw new IllegalArgumentException("stopline.worker.frames.linger must not be negative");
		}
		if (batchInterval.isNegative()) {
			throw new IllegalArgumentException("stopline.worker.frames.batch-interval must not be negative");
		}
		if (maxChars < 1) {
			throw new IllegalArgumentException("stopline.worker.frames.max-chars must be at least 1");
		}
	}

}
