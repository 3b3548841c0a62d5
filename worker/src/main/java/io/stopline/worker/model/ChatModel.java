package io.stopline.worker.model;

import java.util.List;

import io.stopline.protocol.StartRun;

/**
 * A model that streams an answer token by token. Implementations block the calling
 * (virtual) thread and must end promptly with {@link InterruptedException} when it is
 * interrupted: that is how a stop cancels them.
 */
public interface ChatModel {

	void generate(StartRun request, TokenSink sink) throws InterruptedException;

	/**
	 * One turn of a conversation with tools: streams the turn's text to {@code sink} and
	 * returns the tool calls the model asks for, empty once it answered. {@code rounds}
	 * holds the calls of the earlier turns with their results. A model without tool
	 * support answers as {@link #generate} does.
	 */
	default List<ToolRequest> respond(StartRun request, List<ToolDefinition> tools, List<ToolRound> rounds,
			TokenSink sink) throws InterruptedException {
		generate(request, sink);
		return List.of();
	}

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
