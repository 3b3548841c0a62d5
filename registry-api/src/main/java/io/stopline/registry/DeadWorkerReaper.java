package io.stopline.registry;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.stopline.protocol.RunEvent;
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
	static final String LOST = "The worker running this conversation stopped responding; the answer was interrupted.";

	private final ConversationRegistry registry;

	private final WorkerLiveness liveness;

	private final RunEvents events;

	private final @Nullable StopAudit audit;

	public DeadWorkerReaper(ConversationRegistry registry, WorkerLiveness liveness, RunEvents events) {
		this(registry, liveness, events, null);
	}

	public DeadWorkerReaper(ConversationRegistry registry, WorkerLiveness liveness, RunEvents events,
			@Nullable StopAudit audit) {
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
				new RunEvent.RunFailed(run.runId(), run.conversationId(), LOST, "", now));
		if (audit != null) {
			audit.record(new StopAudit.Entry(by, run.userId(), run.conversationId(), run.runId(), reason, "interrupted",
					0, now));
		}
		return true;
	}

}
