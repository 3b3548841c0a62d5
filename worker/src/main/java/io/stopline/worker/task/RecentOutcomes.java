package io.stopline.worker.task;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import io.stopline.core.run.RunOutcome;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The outcomes this worker recorded lately, by run id. Redis replicates asynchronously: a
 * failover can promote a replica that never got a finish the old master acknowledged, so
 * the promoted master lists the run as running on this worker again, and the answer (a
 * stopped run's partial text the user was told is kept) is gone. The ownership check
 * finds such a record and writes the remembered outcome again, fenced on the run id like
 * any finish, instead of finishing the run as {@code interrupted} with nothing kept.
 * <p>
 * Bounded by {@link RecentOutcomesProperties}: kept for {@code retention}, at most
 * {@code maxRuns}, oldest dropped first. A write lost after that ends as
 * {@code interrupted}, as before.
 */
@Component
class RecentOutcomes {

	private final Map<String, Kept> byRun = new LinkedHashMap<>();

	private final Duration retention;

	private final int maxRuns;

	private final Clock clock;

	@Autowired
	RecentOutcomes(RecentOutcomesProperties properties) {
		this(properties, Clock.systemUTC());
	}

	RecentOutcomes(RecentOutcomesProperties properties, Clock clock) {
		this.retention = properties.retention();
		this.maxRuns = properties.maxRuns();
		this.clock = clock;
	}

	/** Keeps the outcome the worker just wrote for {@code runId}. */
	synchronized void remember(String runId, RunOutcome outcome) {
		if (maxRuns == 0) {
			return;
		}
		Instant now = clock.instant();
		byRun.remove(runId);
		byRun.put(runId, new Kept(outcome, now));
		prune(now);
	}

	/** The outcome recorded for the run, while it is kept. */
	synchronized Optional<RunOutcome> find(String runId) {
		prune(clock.instant());
		Kept kept = byRun.get(runId);
		return kept == null ? Optional.empty() : Optional.of(kept.outcome());
	}

	synchronized int size() {
		return byRun.size();
	}

	/** Drops what is too old or beyond the count, oldest first (insertion order). */
	private void prune(Instant now) {
		Instant oldest = now.minus(retention);
		Iterator<Kept> kept = byRun.values().iterator();
		while (kept.hasNext()) {
			Kept next = kept.next();
			if (byRun.size() <= maxRuns && !next.at().isBefore(oldest)) {
				return;
			}
			kept.remove();
		}
	}

	private record Kept(RunOutcome outcome, Instant at) {
	}

}
