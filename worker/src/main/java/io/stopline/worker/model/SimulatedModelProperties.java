package io.stopline.worker.model;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code stopline.model.simulated.*}: the built-in model streams one token per
 * {@code tokenDelay}.
 *
 * @param tokenDelay the model's speed: one token per delay (20 ms: 50 tokens/s)
 * @param burst tokens delivered together, after {@code burst} delays, as real upstreams
 * deliver several tokens per network read (1: evenly)
 * @param clockTokens each token is the time it was emitted ({@code " <epoch µs>"})
 * instead of a word: the benchmark measures token delivery with it
 */
@ConfigurationProperties("stopline.model.simulated")
record SimulatedModelProperties(@DefaultValue("20ms") Duration tokenDelay, @DefaultValue("1") int burst,
		@DefaultValue("false") boolean clockTokens) {

	SimulatedModelProperties {
		if (burst < 1) {
			throw new IllegalArgumentException("stopline.model.simulated.burst must be at least 1");
		}
	}

}
