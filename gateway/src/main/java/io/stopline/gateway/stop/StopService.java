package io.stopline.gateway.stop;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.stopline.gateway.GatewayProperties;
import io.stopline.gateway.inbox.GatewayInbox;
import io.stopline.protocol.RunEvent;
import io.stopline.protocol.StopReason;
import io.stopline.protocol.StopReceipt;
import io.stopline.protocol.StopRun;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.liveness.DeadWorkerReaper;
import io.stopline.core.run.ConversationRegistry.StopTarget;
import io.stopline.core.events.RunEvents;
import io.stopline.core.run.RunOutcome;
import io.stopline.core.run.RunRecord;
import io.stopline.core.run.RunReplays;
import io.stopline.protocol.TokenOffsets;
import io.stopline.core.ops.StopAudit;
import io.stopline.core.stop.StopRequests;
import io.stopline.core.liveness.WorkerLiveness;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Service;
import org.springframework.web.ErrorResponseException;

/**
 * Stops a conversation's run wherever it is. A queued run is ended here, atomically
 * against a worker claiming it; a running one gets a recorded-then-published stop
 * request, and this waits (bounded) for the owner's answer. Lookups are by the caller's
 * own user id, so another user's run can never be found, let alone stopped.
 */
@Service
class StopService {

	private static final Logger log = LoggerFactory.getLogger(StopService.class);

	private static final int ATTEMPTS = 3;

	private static final Duration FIRST_SLICE = Duration.ofMillis(250);

	private static final Duration POLL_SLICE = Duration.ofMillis(100);

	/**
	 * The longest wait between two reads of the registry: the reads back off (100, 200,
	 * 400 ms…), since a confirmation this late is usually on its way (a burst of stops
	 * all polling every 100 ms was thousands of reads a second).
	 */
	private static final Duration MAX_POLL_SLICE = Duration.ofMillis(800);

	private final ConversationRegistry registry;

	private final StopRequests stopRequests;

	private final GatewayInbox inbox;

	private final RunEvents events;

	private final WorkerLiveness liveness;

	private final DeadWorkerReaper reaper;

	private final Duration confirmTimeout;

	private final StopMetrics metrics;

	private final StopAudit audit;

	private final StopRateLimiter rateLimiter;

	private final Duration tombstoneTtl;

	private final RunReplays replays;

	StopService(ConversationRegistry registry, StopRequests stopRequests, GatewayInbox inbox, RunEvents events,
			WorkerLiveness liveness, DeadWorkerReaper reaper, StopMetrics metrics, StopAudit audit,
			StopRateLimiter rateLimiter, GatewayProperties properties, StopProperties stopProperties,
			RunReplays replays) {
		this.replays = replays;
		this.tombstoneTtl = stopProperties.tombstoneTtl();
		this.rateLimiter = rateLimiter;
		this.metrics = metrics;
		this.audit = audit;
		this.liveness = liveness;
		this.reaper = reaper;
		this.registry = registry;
		this.stopRequests = stopRequests;
		this.inbox = inbox;
		this.events = events;
		this.confirmTimeout = properties.stopConfirmTimeout();
	}

	/**
	 * Carries out one stop command: looks the run up (taking the permit when the command
	 * needs one), stops it, counts it and audits it (the audit line is this stop's one
	 * log line: who, what, outcome, latency).
	 */
	StopOutcome stop(StopCommand command) {
		long started = System.nanoTime();
		StopOutcome attempt;
		try {
			attempt = attempt(command, started);
		}
		catch (ErrorResponseException refused) {
			// refused before acting (rate limit): counted there, nothing to audit
			throw refused;
		}
		catch (RuntimeException ex) {
			long took = System.nanoTime() - started;
			metrics.record(command.endpoint(), "error", took);
			audit.record(new StopAudit.Entry(command.actor(), command.userId(), command.conversationId(), null,
					command.reason().wireName(), "error", took / 1000, Instant.now()));
			throw ex;
		}
		long took = System.nanoTime() - started;
		String outcome = StopMetrics.outcome(attempt.result());
		metrics.record(command.endpoint(), outcome, took);
		if (command.auditsMisses() || attempt.result() == StopResult.CONFIRMED
				|| attempt.result() == StopResult.REQUESTED || attempt.result() == StopResult.STOPPED_BEFORE) {
			RunEvent.RunStopped confirmation = attempt.confirmation();
			audit.record(new StopAudit.Entry(command.actor(), command.userId(), command.conversationId(),
					attempt.runId(), command.reason().wireName(), outcome, took / 1000, Instant.now(),
					confirmation == null ? null : confirmation.tokens(),
					confirmation == null ? null : confirmation.receipt()));
		}
		return attempt;
	}

	/**
	 * The first look takes the permit and, where one script can reach the worker's keys
	 * (not on Redis Cluster), already records and publishes the stop: one round trip
	 * before the wait for the worker's answer. A queued run claimed meanwhile is looked
	 * at again.
	 */
	private StopOutcome attempt(StopCommand command, long started) {
		String userId = command.userId();
		String conversationId = command.conversationId();
		StopReason reason = command.reason();
		for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
			// the first look takes the permit; a look again (a queued run was claimed
			// meanwhile) is free, and stays on the run id asked for
			StopRequests.Lookup lookup = stopRequests.request(userId, conversationId,
					attempt == 0 ? rateLimiter.inScript(command) : null, stopRun("", command), command.runId(),
					command.tombstones() ? tombstoneTtl : Duration.ZERO);
			StopTarget target;
			StopRequests.Signalled signalled;
			switch (lookup) {
				case StopRequests.Lookup.Limited limited -> throw rateLimiter.refused(command.endpoint(), started);
				case StopRequests.Lookup.StoppedBefore before -> {
					return StopOutcome.of(StopResult.STOPPED_BEFORE, command.runId());
				}
				case StopRequests.Lookup.Waiting waiting -> {
					return new StopOutcome(StopResult.CONFIRMED, waiting.run().runId(),
							stopWaiting(waiting.run(), reason));
				}
				case StopRequests.Lookup.Found found -> {
					target = found.target();
					signalled = found.signalled();
					found.dropped().forEach(run -> stopWaiting(run, reason));
				}
			}
			switch (target) {
				case StopTarget.NotFound notFound -> {
					return StopOutcome.of(StopResult.NOT_FOUND, null);
				}
				case StopTarget.RecentlyStopped stopped -> {
					return StopOutcome.of(StopResult.ALREADY_STOPPED, stopped.runId());
				}
				case StopTarget.Active active when active.run().isQueued() -> {
					RunEvent.RunStopped ended = stopQueued(active.run(), reason);
					if (ended != null) {
						return new StopOutcome(StopResult.CONFIRMED, active.run().runId(), ended);
					}
					// a worker claimed it meanwhile: look again, it is running now
				}
				case StopTarget.Active active -> {
					return stopRunning(active.run(), command, signalled);
				}
			}
		}
		return StopOutcome.of(StopResult.REQUESTED, null);
	}

	/**
	 * No worker holds it yet: end it here. The worker that later reads the job finds it
	 * gone and skips it.
	 */
	private RunEvent.@Nullable RunStopped stopQueued(RunRecord run, StopReason reason) {
		Instant requested = Instant.now();
		RunOutcome outcome = RunOutcome.stopped("", reason, requested);
		List<RunEvent.MessageAdded> added = outcome.messages(run.runId())
			.stream()
			.map(message -> new RunEvent.MessageAdded(run.runId(), run.conversationId(), message, requested))
			.toList();
		// persisted by the script that sends the confirmation (where it can: not on
		// Redis Cluster)
		Instant persisted = Instant.now();
		RunEvent.RunStopped stopped = new RunEvent.RunStopped(run.runId(), run.conversationId(), reason, "", 0,
				requested, new StopReceipt(requested, null, null, persisted), List.of());
		ConversationRegistry.Announcement announcement = events.announcement(run.userId(), List.of(run.replyTo()),
				stopped, added);
		if (!registry.finishQueued(run, outcome, announcement)) {
			return null;
		}
		if (announcement == null) {
			events.publish(run.userId(), run.replyTo(), stopped);
			added.forEach(event -> events.toConversation(run.userId(), event));
		}
		return stopped;
	}

	/**
	 * A run that waited behind the active one (on_active) and left the waiting list
	 * before it started: nothing entered the history; its client is told, and its replay
	 * keeps its end for a client whose event was lost (the chat stream reads it when the
	 * run is neither active nor waiting) or that resumes its stream.
	 */
	private RunEvent.RunStopped stopWaiting(RunRecord run, StopReason reason) {
		Instant now = Instant.now();
		RunEvent.RunStopped stopped = new RunEvent.RunStopped(run.runId(), run.conversationId(), reason, "", 0, now,
				new StopReceipt(now, null, null, now), java.util.List.of());
		try {
			replays.record(run.userId(),
					new RunReplays.Replay(run.agentName(), run.queuedAt(), stopped, TokenOffsets.NONE));
		}
		catch (RuntimeException ex) {
			log.warn("could not keep the replay of run {}, stopped while it waited: {}", run.runId(), ex.toString());
		}
		events.publish(run.userId(), run.replyTo(), stopped);
		return stopped;
	}

	private StopRun stopRun(String runId, StopCommand command) {
		return new StopRun(UUID.randomUUID().toString(), runId, command.userId(), command.conversationId(),
				command.reason(), inbox.gatewayId(), Instant.now(), command.seenTokens());
	}

	/**
	 * Signals the stop unless the lookup already did ({@code signalled}), then waits for
	 * the owner's answer. The inbox keeps an answer that arrives before the wait begins.
	 */
	private StopOutcome stopRunning(RunRecord run, StopCommand command, StopRequests.@Nullable Signalled signalled) {
		CompletableFuture<RunEvent> outcome = inbox.stopOutcome(run.runId());
		long receivers;
		try {
			receivers = signalled != null ? signalled.receivers()
					: stopRequests.signal(run.workerId(), stopRun(run.runId(), command));
		}
		catch (RuntimeException ex) {
			inbox.forgetStopOutcome(run.runId(), outcome);
			throw ex;
		}
		if (receivers == 0) {
			if (liveness.isDead(run.workerId())) {
				// the owner is dead: interrupt its runs now rather than wait for the
				// reaper's tick. Not when Redis merely forgot it (its heartbeat key and
				// registration lost with a restart): that worker is alive, registers
				// again at its next heartbeat, and carries out the recorded stop
				inbox.forgetStopOutcome(run.runId(), outcome);
				reaper.reap(run.workerId());
				return StopOutcome.of(StopResult.NOT_FOUND, null);
			}
			log.warn("no subscriber heard the stop of run {} on worker {}; it waits in the recorded requests",
					run.runId(), run.workerId());
		}
		try {
			return awaitOutcome(run, outcome);
		}
		finally {
			inbox.forgetStopOutcome(run.runId(), outcome);
		}
	}

	/**
	 * Waits for the owner's answer on the inbox. The answer is pub/sub too and can be
	 * lost (this gateway's own subscription may be reconnecting), so after a short wait
	 * the registry is also read, then less and less often: a stop marker for this run is
	 * the confirmation written in Redis.
	 */
	private StopOutcome awaitOutcome(RunRecord run, CompletableFuture<RunEvent> outcome) {
		long deadline = System.nanoTime() + confirmTimeout.toNanos();
		long slice = FIRST_SLICE.toNanos();
		try {
			while (true) {
				long left = deadline - System.nanoTime();
				if (left <= 0) {
					return StopOutcome.of(StopResult.REQUESTED, run.runId());
				}
				try {
					return switch (outcome.get(Math.min(slice, left), TimeUnit.NANOSECONDS)) {
						case RunEvent.RunStopped stopped -> new StopOutcome(StopResult.CONFIRMED, run.runId(), stopped);
						case RunEvent.StopIgnored ignored when "completed".equals(ignored.cause()) ->
							StopOutcome.of(StopResult.NOT_FOUND, null);
						default -> afterIgnored(run);
					};
				}
				catch (TimeoutException ex) {
					slice = slice == FIRST_SLICE.toNanos() ? POLL_SLICE.toNanos()
							: Math.min(slice * 2, MAX_POLL_SLICE.toNanos());
					if (registry.stopTarget(run.userId(),
							run.conversationId()) instanceof StopTarget.RecentlyStopped stopped
							&& stopped.runId().equals(run.runId())) {
						return StopOutcome.of(StopResult.CONFIRMED, run.runId());
					}
				}
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return StopOutcome.of(StopResult.REQUESTED, run.runId());
		}
		catch (ExecutionException ex) {
			throw new IllegalStateException("stop outcome failed", ex);
		}
	}

	/**
	 * The owner no longer holds the run: say what became of it. The run this request
	 * targeted being stopped is a success, whichever of the concurrent requests (or a
	 * replayed recorded one) carried it out.
	 */
	private StopOutcome afterIgnored(RunRecord run) {
		return switch (registry.stopTarget(run.userId(), run.conversationId())) {
			case StopTarget.RecentlyStopped stopped when stopped.runId().equals(run.runId()) ->
				StopOutcome.of(StopResult.CONFIRMED, run.runId());
			case StopTarget.Active active when active.run().runId().equals(run.runId()) ->
				StopOutcome.of(StopResult.REQUESTED, run.runId());
			default -> StopOutcome.of(StopResult.NOT_FOUND, null);
		};
	}

}
