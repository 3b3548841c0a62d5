package io.stopline.worker.model;

import io.stopline.protocol.StartRun;

/**
 * A model that streams an answer token by token. Implementations block the calling
 * (virtual) thread and must end promptly with {@link InterruptedException} when it is
 * interrupted: that is how a stop cancels them.
 */
public interface ChatModel {

	void generate(StartRun request, TokenSink sink) throws InterruptedException;

	/** Receives each token as it is produced. */
	@FunctionalInterface
	interface TokenSink {

		void accept(String token) throws InterruptedException;

		/**
		 * The connection to the model provider is closed (a stop's receipt reports when);
		 * models without one never call it.
		 */
		default void upstreamClosed() {
		}

	}

}
