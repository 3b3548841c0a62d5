package io.stopline.core.run;

/**
 * Told once per run that ended, by the fenced finish that removed it (the statistics
 * count ends through it, in memory, without a round trip).
 */
@FunctionalInterface
public interface RunEndListener {

	void runEnded(RunRecord run, RunOutcome outcome);

}
