package io.stopline.worker.task;

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
 */
@ConfigurationProperties("stopline.worker.frames")
public record TokenFrameProperties(@DefaultValue("15ms") Duration linger, @DefaultValue("4096") int maxChars) {

	public TokenFrameProperties {
		if (linger.isNegative()) {
			throw new IllegalArgumentException("stopline.worker.frames.linger must not be negative");
		}
		if (maxChars < 1) {
			throw new IllegalArgumentException("stopline.worker.frames.max-chars must be at least 1");
		}
	}

}
