package io.stopline.worker.model;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

import io.stopline.protocol.StartRun;

import org.springframework.stereotype.Component;

/**
 * A model without a model: streams words of a fixed text, one per delay (or {@code burst}
 * at a time), until {@code max_tokens}.
 */
@Component
final class SimulatedModel implements ChatModel {

	private static final String[] WORDS = ("Stopline keeps every stop honest: the request reaches the worker that "
			+ "owns the run, the generation ends at once, the partial answer stays in the history, and the user "
			+ "gets a confirmation. ")
		.split(" ");

	private final SimulatedModelProperties properties;

	SimulatedModel(SimulatedModelProperties properties) {
		this.properties = properties;
	}

	@Override
	public void generate(StartRun request, TokenSink sink) throws InterruptedException {
		Duration burstDelay = properties.tokenDelay().multipliedBy(properties.burst());
		for (int i = 0; i < request.maxTokens(); i++) {
			if (i % properties.burst() == 0) {
				if (burstDelay.isPositive()) {
					Thread.sleep(burstDelay);
				}
				else if (Thread.interrupted()) {
					throw new InterruptedException();
				}
			}
			sink.accept(token(i));
		}
	}

	private String token(int i) {
		if (properties.clockTokens()) {
			return " " + ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
		}
		return (i == 0 ? "" : " ") + WORDS[i % WORDS.length];
	}

}
