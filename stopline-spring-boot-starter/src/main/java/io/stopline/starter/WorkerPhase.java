package io.stopline.starter;

/**
 * The order in which the worker's lifecycle beans start and stop, written once. Spring
 * starts a lower phase first and stops it last, so the order reads as start-up order and,
 * backwards, as shutdown order: announced alive before anything else and forgotten last;
 * work taken last and refused first.
 */
public enum WorkerPhase {

	/**
	 * The heartbeat: announced before the listeners and the consumer start; forgotten
	 * after they stopped and the graceful shutdown settled the last run.
	 */
	HEARTBEAT(Integer.MAX_VALUE - 300),

	/**
	 * The ownership self-check: stopped after the graceful shutdown and the listeners,
	 * before the heartbeat.
	 */
	OWNERSHIP_CHECK(Integer.MAX_VALUE - 250),

	/**
	 * The stop and control listeners: subscribed before taking work, unsubscribed after
	 * the last run is gone.
	 */
	LISTENERS(Integer.MAX_VALUE - 200),

	/**
	 * The graceful shutdown: between the job consumer (stopped first) and the listeners
	 * (stopped after).
	 */
	GRACEFUL_SHUTDOWN(Integer.MAX_VALUE - 150),

	/** The job consumer: takes work last and stops taking it first. */
	JOB_CONSUMER(Integer.MAX_VALUE - 100);

	private final int phase;

	WorkerPhase(int phase) {
		this.phase = phase;
	}

	/** The {@code SmartLifecycle} phase. */
	public int phase() {
		return phase;
	}

}
