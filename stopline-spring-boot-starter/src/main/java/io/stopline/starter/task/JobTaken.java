package io.stopline.starter.task;

import org.jspecify.annotations.Nullable;

/**
 * How a run's job leaves its queue: told once the run is claimed or known not to run.
 * Where the queue is Stopline's job stream, the claim's own script can acknowledge the
 * job ({@link #entryId()}), one round trip fewer per start.
 */
public interface JobTaken {

	/**
	 * The job's entry id in {@code stopline:jobs}, for the claim to acknowledge; null
	 * when the caller acknowledges it itself.
	 */
	@Nullable String entryId();

	/**
	 * The run is claimed or known not to run; {@code acknowledged}: the claim's script
	 * acknowledged the job, else the caller must.
	 */
	void taken(boolean acknowledged);

	/** A job not in the job stream: {@code onTaken} runs when it is taken. */
	static JobTaken of(Runnable onTaken) {
		return new JobTaken() {

			@Override
			public @Nullable String entryId() {
				return null;
			}

			@Override
			public void taken(boolean acknowledged) {
				onTaken.run();
			}

		};
	}

}
