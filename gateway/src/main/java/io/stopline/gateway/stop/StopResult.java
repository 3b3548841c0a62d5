package io.stopline.gateway.stop;

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
	NOT_FOUND

}
