package io.stopline.worker.model;

/**
 * A model could not answer. The message is written for the user (it ends up in the
 * history and in the client's error); details stay in the log.
 */
public class ModelFailure extends RuntimeException {

	public ModelFailure(String userMessage) {
		super(userMessage);
	}

	public ModelFailure(String userMessage, Throwable cause) {
		super(userMessage, cause);
	}

}
