package io.stopline.core.liveness;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.stopline.protocol.RunEvent;
import io.stopline.core.events.RunEvents;
import io.stopline.core.ops.StopAudit;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.run.RunOutcome;
import io.stopline.core.run.RunRecord;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends the runs of workers whose heartbeat expired: each run's record is removed and its
 * history marked {@code interrupted} (a fenced finish, so several reapers at once, or a
 * reaper racing the worker itself, are harmless: exactly one of them finishes each run),
 * its client is told, and the worker's keys are removed.
 */
public final class DeadWorkerReaper {

	private static final Logger log = LoggerFactory.getLogger(DeadWorkerReaper.class);

	static final String NOT_QUEUED = "The run could not be queued.";

	/**
	 * How long a run may stay queued with no job before the sweep ends it, by default
	 * (see {@link QueueSweepProperties}): far beyond the milliseconds between a
	 * reservation and its job, and only runs without a job count, so a long backlog is
	 * never swept.
	 */
	public static final Duration QUEUED_WITHOUT_JOB = Duration.ofSeconds(10);

	private static final int SWEEP_LIMIT = 100;

	private final ConversationRegistry registry;

	private final WorkerLiveness liveness;

	private final RunEvents events;

	private final @Nullable StopAudit audit;

	private final Duration queuedWithoutJob;

	public DeadWorkerReaper(ConversationRegistry registry, WorkerLiveness liveness, RunEvents events) {
		this(registry, liveness, events, null);
	}

	public DeadWorkerReaper(ConversationRegistry registry, WorkerLiveness liveness, RunEvents events,
			@Nullable StopAudit audit) {
		this(registry, liveness, events, audit, QUEUED_WITHOUT_JOB);
	}

	/**
	 * @param queuedWithoutJob how long a run may stay queued with no job before
	 * {@link #sweepQueued()} ends it
	 */
	public DeadWorkerReaper(ConversationRegistry registry, WorkerLiveness liveness, RunEvents events,
			@Nullable StopAudit audit, Duration queuedWithoutJob) {
		this.queuedWithoutJob = queuedWithoutJob;
		this.audit = audit;
		this.registry = registry;
		this.liveness = liveness;
		this.events = events;
	}

	/**
	 * Reaps every known worker whose heartbeat is gone; returns the runs this call
	 * interrupted.
	 */
	public List<RunRecord> reapDead() {
		List<RunRecord> reaped = new ArrayList<>();
		for (String workerId : liveness.knownWorkers()) {
			if (!liveness.isAlive(workerId)) {
				reaped.addAll(reap(workerId));
			}
		}
		return reaped;
	}

	/** {@link #sweepQueued(Duration)} with the configured bound. */
	public List<RunRecord> sweepQueued() {
		return sweepQueued(queuedWithoutJob);
	}

	/**
	 * Ends the runs queued for longer than {@code bound} with no job in the queue (their
	 * reservation's reply timed out after it ran, so the job was never added, or a
	 * failover lost the job's {@code XADD}): as {@code failed} (fenced on the run id and
	 * the queued state), their clients told, so the conversation takes new messages.
	 * Returns the runs this call ended.
	 */
	public List<RunRecord> sweepQueued(Duration bound) {
		List<RunRecord> swept = new ArrayList<>();
		Instant now = Instant.now();
		for (RunRecord run : registry.queuedWithoutJob(now.minus(bound), SWEEP_LIMIT)) {
			if (registry.finishQueued(run, RunOutcome.failed("", NOT_QUEUED, now))) {
				RunOutcome.failed("", NOT_QUEUED, now)
					.messages(run.runId())
					.forEach(message -> events.toConversation(run.userId(),
							new RunEvent.MessageAdded(run.runId(), run.conversationId(), message, now)));
				events.publish(run.userId(), run.replyTo(),
						new RunEvent.RunFailed(run.runId(), run.conversationId(), NOT_QUEUED, "", now));
				swept.add(run);
			}
		}
		if (!swept.isEmpty()) {
			log.warn("{} run(s) were queued for over {} without a job: ended as failed", swept.size(), bound);
		}
		return swept;
	}

	/**
	 * Reaps one worker, which the caller found dead; returns the runs this call
	 * interrupted.
	 */
	public List<RunRecord> reap(String workerId) {
		List<RunRecord> reaped = new ArrayList<>();
		for (ConversationRegistry.WorkerRun entry : registry.runsOf(workerId)) {
			Optional<RunRecord> record = registry.find(entry.userId(), entry.conversationId())
				.filter(run -> run.runId().equals(entry.runId()) && workerId.equals(run.workerId()));
			if (record.isPresent() && interrupt(record.get(), "reaper", "worker_lost")) {
				reaped.add(record.get());
			}
		}
		if (!liveness.isAlive(workerId)) {
			liveness.forget(workerId);
		}
		if (!reaped.isEmpty()) {
			log.warn("worker {} is gone: interrupted {} run(s)", workerId, reaped.size());
		}
		return reaped;
	}

	/**
	 * Ends a run nobody executes any more as {@code interrupted} (fenced on its run id),
	 * tells its client and its watchers, and audits it ({@code by}, {@code reason});
	 * false when the record was no longer this run's (someone else ended it). The reaper
	 * uses it for dead workers; a live worker's ownership check for a run Redis says it
	 * holds but it does not execute.
	 */
	public boolean interrupt(RunRecord run, String by, String reason) {
		Instant now = Instant.now();
		if (!registry.finish(run, RunOutcome.interrupted(now))) {
			return false;
		}
		RunOutcome outcome = RunOutcome.interrupted(now);
		outcome.messages(run.runId())
			.forEach(message -> events.toConversation(run.userId(),
					new RunEvent.MessageAdded(run.runId(), run.conversationId(), message, now)));
		events.publish(run.userId(), run.replyTo(),
				new RunEvent.RunFailed(run.runId(), run.conversationId(), RunOutcome.LOST, "", now));
		if (audit != null) {
			audit.record(new StopAudit.Entry(by, run.userId(), run.conversationId(), run.runId(), reason, "interrupted",
					0, now));
		}
		return true;
	}

}
