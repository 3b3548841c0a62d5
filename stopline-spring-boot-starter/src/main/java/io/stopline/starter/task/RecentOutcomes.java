package io.stopline.starter.task;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.stopline.core.run.RunOutcome;
import io.stopline.core.run.RunRecord;
import io.stopline.protocol.HistoryMessage;
import org.jspecify.annotations.Nullable;

/**
 * The outcomes this worker recorded lately, by run id. Redis replicates asynchronously: a
 * failover can promote a replica that never got a write the old master acknowledged. A
 * lost finish lists the run as running on this worker again, and the answer (a stopped
 * run's partial text the user was told is kept) is gone; when the run's reservation and
 * claim were lost with it, nothing of the run is left at all. The ownership check writes
 * the remembered outcome again in both cases (fenced on the run id like any finish, and
 * through the fenced restore when the record is gone), instead of finishing the run as
 * {@code interrupted} or losing it.
 * <p>
 * Bounded by {@link RecentOutcomesProperties}: kept for {@code retention}, at most
 * {@code maxRuns}, oldest dropped first. A write lost after that is not repaired.
 */
public class RecentOutcomes {

	private final Map<String, Written> byRun = new LinkedHashMap<>();

	private final Duration retention;

	private final int maxRuns;

	private final Clock clock;

	public RecentOutcomes(RecentOutcomesProperties properties) {
		this(properties, Clock.systemUTC());
	}

	RecentOutcomes(RecentOutcomesProperties properties, Clock clock) {
		this.retention = properties.retention();
		this.maxRuns = properties.maxRuns();
		this.clock = clock;
	}

	/**
	 * Keeps the outcome the worker is writing for {@code record}'s run, and the user
	 * message the run answers ({@code asked}, written back if the reservation was lost).
	 */
	synchronized void remember(RunRecord record, RunOutcome outcome, @Nullable HistoryMessage asked) {
		if (maxRuns == 0) {
			return;
		}
		Instant now = clock.instant();
		byRun.remove(record.runId());
		byRun.put(record.runId(), new Written(record, outcome, asked, now, false));
		prune(now);
	}

	/** The outcome recorded for the run, while it is kept. */
	synchronized Optional<RunOutcome> find(String runId) {
		prune(clock.instant());
		Written written = byRun.get(runId);
		return written == null ? Optional.empty() : Optional.of(written.outcome());
	}

	/**
	 * The outcomes written at least {@code age} ago and not checked yet: by then a write
	 * has long reached the replica, unless a failover lost it.
	 */
	synchronized List<Written> due(Duration age) {
		Instant now = clock.instant();
		prune(now);
		Instant before = now.minus(age);
		List<Written> due = new ArrayList<>();
		for (Written written : byRun.values()) {
			if (written.at().isAfter(before)) {
				break;
			}
			if (!written.checked()) {
				due.add(written);
			}
		}
		return due;
	}

	/** Marks outcomes as checked: {@link #due} leaves them out from now on. */
	synchronized void checked(List<Written> checked) {
		checked.forEach(written -> byRun.computeIfPresent(written.record().runId(),
				(runId, kept) -> kept.at().equals(written.at()) ? kept.asChecked() : kept));
	}

	synchronized int size() {
		return byRun.size();
	}

	/** Drops what is too old or beyond the count, oldest first (insertion order). */
	private void prune(Instant now) {
		Instant oldest = now.minus(retention);
		Iterator<Written> kept = byRun.values().iterator();
		while (kept.hasNext()) {
			Written next = kept.next();
			if (byRun.size() <= maxRuns && !next.at().isBefore(oldest)) {
				return;
			}
			kept.remove();
		}
	}

	/** An outcome as the worker wrote it. */
	record Written(RunRecord record, RunOutcome outcome, @Nullable HistoryMessage asked, Instant at, boolean checked) {

		Written asChecked() {
			return new Written(record, outcome, asked, at, true);
		}

	}

}
