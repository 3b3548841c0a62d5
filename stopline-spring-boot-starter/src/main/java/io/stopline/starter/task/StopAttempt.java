package io.stopline.starter.task;

/** What a stop request found when it reached the run's task. */
public enum StopAttempt {

	/** the stop won (or joins the stop that won): the run ends as stopped */
	ACCEPTED,
	/** the model finished first: the run ends as completed */
	COMPLETED,
	/** the run already ended as stopped */
	ALREADY_STOPPED

}
