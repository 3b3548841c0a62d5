package io.stopline.worker.liveness;

import io.stopline.worker.WorkerProperties;

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
