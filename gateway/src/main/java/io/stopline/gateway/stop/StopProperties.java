package io.stopline.gateway.stop;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code stopline.gateway.stop.*}.
 *
 * @param tombstoneTtl how long a stop for a run id that has not arrived yet is kept: a
 * send with that run id within this time is answered as a stopped run and never starts
 */
@ConfigurationProperties("stopline.gateway.stop")
public record StopProperties(@DefaultValue("60s") Duration tombstoneTtl) {

	public StopProperties {
		if (tombstoneTtl.isNegative() || tombstoneTtl.isZero()) {
			throw new IllegalArgumentException("stopline.gateway.stop.tombstone-ttl must be positive");
		}
	}

}
