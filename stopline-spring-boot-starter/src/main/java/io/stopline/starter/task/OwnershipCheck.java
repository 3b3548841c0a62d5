package io.stopline.starter.task;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;

import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.run.ConversationRegistry.Restore;
import io.stopline.core.run.ConversationRegistry.WorkerRun;
import io.stopline.core.liveness.DeadWorkerReaper;
import io.stopline.core.liveness.WorkerLiveness;
import io.stopline.core.run.RunRecord;
import io.stopline.protocol.StopReason;
import io.stopline.starter.WorkerProperties;
import io.stopline.starter.liveness.LivenessScheduler;
import io.stopline.starter.WorkerPhase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;

/**
 * Compares, every {@code ownership-check-interval}, what Redis says this worker holds
 * with the runs it executes, and heals the difference. The reaper only looks at dead
 * workers; this looks at the live one:
 * <ul>
 * <li>a record naming this worker with no local task (a claim whose reply timed out after
 * it ran, an outcome that could not be written, a failover that lost a write) is finished
 * with the outcome this worker recorded for it, when it still {@link RecentOutcomes
 * remembers} one (a finish the failover lost is written again, the answer kept), else as
 * {@code interrupted} (fenced on its run id), so stops stop answering 202 and the
 * conversation takes new messages; an index entry whose record is gone is removed. Seen
 * on two checks in a row first: a run that is just starting or just ending is not
 * touched.</li>
 * <li>a local task whose record is gone, was put back to queued, or names another run or
 * worker is re-asserted through the fenced restore, and stopped (reason {@code lost})
 * when the restore refuses it, so it stops generating.</li>
 * </ul>
 * On a clean exit, once the last run is settled, every entry left is finished at once, so
 * nothing stays behind a worker that no reaper will ever look at.
 */
class OwnershipCheck implements SmartLifecycle {

	private static final Logger log = LoggerFactory.getLogger(OwnershipCheck.class);

	private final LocalTaskRegistry tasks;

	private final ConversationRegistry registry;

	private final DeadWorkerReaper reaper;

	private final LivenessScheduler scheduler;

	private final String workerId;

	private final Duration interval;

	/** Run ids seen in the index without a local task at the previous check. */
	private volatile Set<String> suspects = Set.of();

	private volatile boolean running;

	private ScheduledFuture<?> ticking;

	private final WorkerLiveness liveness;

	private final RecentOutcomes outcomes;

	OwnershipCheck(LocalTaskRegistry tasks, ConversationRegistry registry, DeadWorkerReaper reaper,
			LivenessScheduler scheduler, WorkerLiveness liveness, WorkerProperties properties,
			RecentOutcomes outcomes) {
		this.outcomes = outcomes;
		this.liveness = liveness;
		this.tasks = tasks;
		this.registry = registry;
		this.reaper = reaper;
		this.scheduler = scheduler;
		this.workerId = properties.id();
		this.interval = properties.ownershipCheckInterval();
	}

	@Override
	public void start() {
		running = true;
		ticking = scheduler.withFixedDelay(this::checkQuietly, interval);
	}

	/**
	 * After the graceful shutdown settled the local runs: settle what Redis still holds.
	 */
	@Override
	public void stop() {
		running = false;
		if (ticking != null) {
			ticking.cancel(false);
		}
		try {
			settleIndex(true);
		}
		catch (RuntimeException ex) {
			log.warn("could not settle the runs left in the index of worker {} on exit: {}", workerId, ex.toString());
		}
	}

	@Override
	public boolean isRunning() {
		return running;
	}

	@Override
	public int getPhase() {
		return WorkerPhase.OWNERSHIP_CHECK.phase();
	}

	private void checkQuietly() {
		if (!running) {
			return;
		}
		try {
			check();
		}
		catch (RuntimeException ex) {
			log.warn("ownership check of worker {} failed ({}); next tick retries", workerId, ex.toString());
		}
	}

	void check() {
		checkLocalTasks();
		settleIndex(false);
		checkRecentOutcomes();
	}

	/**
	 * The outcomes this worker wrote at least one interval ago, checked once: one a
	 * failover lost together with the run's reservation (nothing of the run is left in
	 * Redis, so neither the index nor a record points at it) is written again through the
	 * fenced restore, with the user's message, in one step: the run is not listed as
	 * active again meanwhile.
	 */
	private void checkRecentOutcomes() {
		List<RecentOutcomes.Written> due = outcomes.due(interval);
		if (due.isEmpty()) {
			return;
		}
		List<Boolean> ended = registry.ended(due.stream()
			.map(written -> new WorkerRun(written.record().runId(), written.record().userId(),
					written.record().conversationId()))
			.toList());
		for (int i = 0; i < due.size(); i++) {
			RecentOutcomes.Written written = due.get(i);
			if (!ended.get(i) && registry.restoreEnded(written.record(), written.asked(),
					written.outcome()) == Restore.RESTORED) {
				log.warn(
						"run {} of conversation {} had vanished from Redis with its outcome (a failover lost the "
								+ "writes): written again",
						written.record().runId(), written.record().conversationId());
			}
		}
		outcomes.checked(due);
	}

	/**
	 * Reads the records of every local run in one pipelined read per chunk (a read per
	 * run was a round trip per run per tick: 2,000 reads/s with 10,000 runs, and a tenth
	 * of the worker's CPU), then heals the ones that disagree, one at a time.
	 */
	private void checkLocalTasks() {
		List<RunningTask> checked = new ArrayList<>();
		List<WorkerRun> keys = new ArrayList<>();
		for (RunningTask task : tasks.list()) {
			if (task.record() != null && !task.isFinishing() && task.isRunning()) {
				checked.add(task);
				keys.add(new WorkerRun(task.runId(), task.userId(), task.conversationId()));
			}
		}
		List<Optional<RunRecord>> recorded = registry.findAll(keys);
		Boolean alive = null; // read once per tick, and only when a run disagrees
		for (int i = 0; i < checked.size(); i++) {
			RunningTask task = checked.get(i);
			RunRecord mine = task.record();
			if (mine != null && recorded.get(i).filter(record -> agrees(record, mine)).isEmpty() && task.isRunning()
					&& !task.isFinishing()) {
				if (alive == null) {
					alive = liveness.isAlive(workerId);
				}
				if (!alive) {
					// Redis lost this worker's registration (a restart) or reaped it:
					// its heartbeat registers it again first and then revalidates
					// every run, so no record names a worker Redis does not know
					return;
				}
				heal(task, mine);
			}
		}
	}

	/**
	 * A local run Redis disagrees with: read once more (it may have just ended or been
	 * paused), then restored, or stopped when the restore refuses it.
	 */
	private void heal(RunningTask task, RunRecord mine) {
		if (registry.find(task.userId(), task.conversationId()).filter(record -> agrees(record, mine)).isPresent()) {
			return;
		}
		Restore restore = registry.restore(mine, AskedMessage.of(task.job()));
		if (restore == Restore.SUPERSEDED || restore == Restore.ENDED) {
			log.warn("run {} of conversation {} is no longer this worker's ({}): stopping it", task.runId(),
					task.conversationId(), restore);
			task.requestStop(StopReason.LOST);
		}
		else if (restore == Restore.RESTORED) {
			log.warn("run {} of conversation {} was missing from Redis: registered again", task.runId(),
					task.conversationId());
		}
	}

	private boolean agrees(RunRecord record, RunRecord mine) {
		return record.runId().equals(mine.runId()) && workerId.equals(record.workerId()) && !record.isQueued();
	}

	/**
	 * Index entries without a local task: finished (or removed, when their record is
	 * gone) on their second sighting, or at once when {@code now} (at exit).
	 */
	private void settleIndex(boolean now) {
		List<WorkerRun> indexed = registry.runsOf(workerId);
		Set<String> local = new HashSet<>();
		tasks.list().forEach(task -> local.add(task.runId()));
		Set<String> seen = new HashSet<>();
		for (WorkerRun entry : indexed) {
			if (local.contains(entry.runId())) {
				continue;
			}
			if (!now && !suspects.contains(entry.runId())) {
				seen.add(entry.runId());
				continue;
			}
			if (tasks.find(entry.userId(), entry.conversationId())
				.filter(task -> task.runId().equals(entry.runId()))
				.isEmpty()) {
				settle(entry);
			}
		}
		suspects = seen;
	}

	private void settle(WorkerRun entry) {
		Optional<RunRecord> record = registry.find(entry.userId(), entry.conversationId())
			.filter(run -> run.runId().equals(entry.runId()) && workerId.equals(run.workerId()));
		if (record.isPresent() && rewrite(record.get())) {
			log.warn("run {} of conversation {} was listed again after its outcome was recorded (a failover lost "
					+ "the write): its outcome written again", entry.runId(), entry.conversationId());
		}
		else if (record.isPresent() && reaper.interrupt(record.get(), "system", StopReason.LOST.wireName())) {
			log.warn("run {} of conversation {} was recorded on this worker, which does not execute it: "
					+ "finished as interrupted", entry.runId(), entry.conversationId());
		}
		registry.unindex(workerId, entry.runId());
	}

	/**
	 * Writes again the outcome this worker recorded for the run, if it remembers one;
	 * whether that ended the run. Announces nothing: the client was told when the outcome
	 * was first written, or its gateway rebuilds the end from the history.
	 */
	private boolean rewrite(RunRecord run) {
		return outcomes.find(run.runId()).filter(outcome -> registry.finish(run, outcome)).isPresent();
	}

}
