package io.stopline.gateway.stop;

import java.util.Map;

import io.stopline.gateway.system.Problems;

import org.springframework.http.ResponseEntity;

/** What a stop request achieved. */
enum StopResult {

	/** the owner confirmed the cancellation */
	CONFIRMED,
	/**
	 * recorded and signalled, not confirmed within the timeout; it is carried out as soon
	 * as the owner hears it
	 */
	REQUESTED,
	/** nothing runs, but this conversation was stopped within the last minute */
	ALREADY_STOPPED,
	/** no active run of the caller (unknown, finished, or another user's) */
	NOT_FOUND,
	/**
	 * the run id asked for has not arrived yet: its send will be answered as a stopped
	 * run and it never starts
	 */
	STOPPED_BEFORE;

	/** The answer of a single stop: 200, 202, or a 404 problem. */
	ResponseEntity<Map<String, String>> answer(String conversationId) {
		return switch (this) {
			case CONFIRMED ->
				ResponseEntity.ok(Map.of("message", "Successfully stopped conversation " + conversationId));
			case REQUESTED, STOPPED_BEFORE ->
				ResponseEntity.accepted().body(Map.of("message", "Stop requested for conversation " + conversationId));
			case ALREADY_STOPPED ->
				ResponseEntity.ok(Map.of("message", "Conversation " + conversationId + " is already stopped"));
			case NOT_FOUND -> throw Problems.noActiveRun(conversationId);
		};
	}

}
