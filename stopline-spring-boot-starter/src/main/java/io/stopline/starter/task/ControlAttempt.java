package io.stopline.starter.task;

/** What a pause or a resume found. */
public enum ControlAttempt {

	/** the run changed state */
	CHANGED,
	/** it already was in the asked state */
	UNCHANGED,
	/** it is stopping or ending: nothing to pause or resume */
	ENDING

}
