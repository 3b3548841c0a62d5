package io.stopline.starter;

/** What a stop request achieved (as the gateway's stop endpoints answer it). */
public enum StopResult {

	/** the owner stopped the run and recorded its partial answer */
	CONFIRMED,
	/** recorded and signalled; the owner has not confirmed within the wait */
	REQUESTED,
	/** the conversation has no active run of this user */
	NOT_FOUND,
	/** the conversation's run was stopped a moment ago */
	ALREADY_STOPPED,
	/** the run id has not started: it never will */
	STOPPED_BEFORE

}
