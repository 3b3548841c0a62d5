package io.stopline.starter.liveness;

import io.stopline.starter.WorkerProperties;

/** Readiness for tests of the parts that consult it. */
public final class ReadinessFixtures {

	private ReadinessFixtures() {
	}

	/** Hears stops and was seen alive just now. */
	public static WorkerReadiness ready(WorkerProperties properties) {
		WorkerReadiness readiness = new WorkerReadiness(properties);
		readiness.beat();
		readiness.stopsAudible(true);
		return readiness;
	}

}
