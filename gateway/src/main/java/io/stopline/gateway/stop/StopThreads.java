package io.stopline.gateway.stop;

import java.util.Objects;
import java.util.function.Supplier;

import io.stopline.core.threads.ControlHandOff;
import jakarta.annotation.PreDestroy;

import org.springframework.stereotype.Component;

/**
 * The stop endpoint's own platform threads ({@link ControlHandOff}): a stop on the API
 * port's virtual threads is carried out there while the streams keep the virtual threads'
 * scheduler busy. A request on the control port is on a platform thread already and
 * carries its stop out itself. A client that goes away cancels its stop's wait, not the
 * stop: the stop is recorded before the wait and carried out by the owner.
 */
@Component
class StopThreads {

	static final int MAX_THREADS = 32;

	private final ControlHandOff handOff = new ControlHandOff("stop-", MAX_THREADS, ControlHandOff.OnInterrupt.CANCEL);

	/** Runs {@code stop} and returns its answer (or throws its failure). */
	<T> T call(Supplier<T> stop) {
		// never null: the caller's interrupt cancels and throws instead
		return Objects.requireNonNull(handOff.call(stop));
	}

	@PreDestroy
	void close() {
		handOff.close();
	}

}
