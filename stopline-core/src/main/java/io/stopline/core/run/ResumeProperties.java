package io.stopline.core.run;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Resumable chat streams ({@code stopline.resume.*}), read by gateways and workers.
 *
 * @param grace how long after its end a run's chat stream can still be resumed: the
 * worker keeps the run's replay (its terminal event and frame ends, see
 * {@link RunReplays}) this long in Redis; a running run can always be resumed
 */
@ConfigurationProperties("stopline.resume")
public record ResumeProperties(@DefaultValue("60s") Duration grace) {

	public ResumeProperties {
		if (grace.isNegative() || grace.isZero()) {
			throw new IllegalArgumentException("stopline.resume.grace must be positive");
		}
	}

}
