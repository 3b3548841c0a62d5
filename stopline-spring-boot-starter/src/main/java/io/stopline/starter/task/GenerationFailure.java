package io.stopline.starter.task;

/**
 * A generation could not answer. The message is written for the user (it ends up in the
 * history and in the client's error); details stay in the log.
 */
public class GenerationFailure extends RuntimeException {

	public GenerationFailure(String userMessage, Throwable cause) {
		super(userMessage, cause);
	}

}
