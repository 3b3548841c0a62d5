package io.stopline.worker.model;

import io.stopline.protocol.StartRun;

import org.springframework.stereotype.Component;

/**
 * A model without a model: streams words of a fixed text, one per delay, until
 * {@code max_tokens}.
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
		long delayNanos = properties.tokenDelay().toNanos();
		for (int i = 0; i < request.maxTokens(); i++) {
			if (delayNanos > 0) {
				Thread.sleep(java.time.Duration.ofNanos(delayNanos));
			}
			else if (Thread.interrupted()) {
				throw new InterruptedException();
			}
			sink.accept((i == 0 ? "" : " ") + WORDS[i % WORDS.length]);
		}
	}

}
