package io.stopline.gateway.system;

import io.stopline.core.schema.ConversationIds;

import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.web.ErrorResponseException;

/** The problem details the API answers with, worded once. */
public final class Problems {

	private Problems() {
	}

	public static ErrorResponseException of(HttpStatus status, String detail) {
		return new ErrorResponseException(status, ProblemDetail.forStatusAndDetail(status, detail), null);
	}

	/**
	 * Same words whether the conversation is unknown or another user's: nothing is
	 * revealed.
	 */
	public static ErrorResponseException noActiveRun(String conversationId) {
		return of(HttpStatus.NOT_FOUND, "No active run for conversation " + conversationId + ".");
	}

	public static ErrorResponseException conversationNotFound(String conversationId) {
		return of(HttpStatus.NOT_FOUND, "Conversation " + conversationId + " not found.");
	}

	/**
	 * Validates a conversation id from a path, header or body before any Redis key is
	 * built from it.
	 */
	public static String requireConversationId(String id) {
		if (!ConversationIds.isValid(id)) {
			throw of(HttpStatus.BAD_REQUEST, "Invalid conversation id: " + ConversationIds.RULE + ".");
		}
		return id;
	}

	/**
	 * Validates a run id (a path, a header or a body field, named by {@code where}): the
	 * charset of conversation ids, since run ids become part of Redis keys too.
	 */
	public static String requireRunId(String id, String where) {
		if (!ConversationIds.isValid(id)) {
			throw of(HttpStatus.BAD_REQUEST, where + ": " + ConversationIds.RULE + ".");
		}
		return id;
	}

}
