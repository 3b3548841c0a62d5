package io.stopline.gateway.stop;

import io.stopline.core.run.RunRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;

/**
 * Stops the active run a new message replaces ({@code on_active: interrupt} or
 * {@code rollback}) with reason {@code superseded}, through the one stop path (counted
 * and audited like any stop), off the chat request's thread: the new run already waits in
 * Redis and starts when the finish of the replaced run records its outcome, so the
 * request need not wait for the confirmation. Should this stop fail, the new run starts
 * when the replaced one ends by itself.
 */
@Component
public class ReplacedRuns {

	private static final Logger log = LoggerFactory.getLogger(ReplacedRuns.class);

	private final StopService stops;

	ReplacedRuns(StopService stops) {
		this.stops = stops;
	}

	/** Asks {@code replaced}'s owner to stop it; returns at once. */
	public void stop(RunRecord replaced) {
		Thread.ofVirtual().name("replace-" + replaced.runId()).start(() -> {
			try {
				StopOutcome outcome = stops
					.stop(StopCommand.superseding(replaced.userId(), replaced.conversationId(), replaced.runId()));
				log.debug("replaced run {}: {}", replaced.runId(), outcome.result());
			}
			catch (RuntimeException ex) {
				log.warn("could not stop run {}, which a new message replaces ({}); the new run starts when it ends",
						replaced.runId(), ex.toString());
			}
		});
	}

}
