package io.stopline.gateway.stop;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.stopline.gateway.GatewayProperties;
import io.stopline.gateway.inbox.GatewayInbox;
import io.stopline.protocol.RunEvent;
import io.stopline.protocol.StopRun;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.liveness.DeadWorkerReaper;
import io.stopline.core.run.ConversationRegistry.StopTarget;
import io.stopline.core.events.RunEvents;
import io.stopline.core.run.RunOutcome;
import io.stopline.core.run.RunRecord;
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

	StopService(ConversationRegistry registry, StopRequests stopRequests, GatewayInbox inbox, RunEvents events,
			WorkerLiveness liveness, DeadWorkerReaper reaper, StopMetrics metrics, StopAudit audit,
			StopRateLimiter rateLimiter, GatewayProperties properties) {
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

	StopResult stop(String userId, String conversationId, String reason) {
		return stop(userId, userId, conversationId, reason);
	}

	/**
	 * One id of a bulk stop ({@code stop_all}): audited only when it stopped a run, so
	 * the audit entries of one request are bounded by the user's active runs, not by the
	 * ids sent (the metrics still count every outcome).
	 */
	StopResult stopInBulk(String userId, String conversationId) {
		return stop(userId, userId, conversationId, "stop_all", false, false);
	}

	/**
	 * Stops a user's run on behalf of {@code actor} (the user, or an admin acting on any
	 * user's run: audited as the admin).
	 */
	StopResult stop(String actor, String userId, String conversationId, String reason) {
		return stop(actor, userId, conversationId, reason, false);
	}

	/**
	 * As {@link #stop(String, String, String, String)}; when {@code rateLimited}, the
	 * stop takes a permit of the user's stop rate in its first round trip, before
	 * anything changes, and a refusal is the 429.
	 */
	StopResult stop(String actor, String userId, String conversationId, String reason, boolean rateLimited) {
		return stop(actor, userId, conversationId, reason, rateLimited, true);
	}

	private StopResult stop(String actor, String userId, String conversationId, String reason, boolean rateLimited,
			boolean auditNoRun) {
		String endpoint = switch (reason) {
			case "stop_all" -> "all";
			case "admin" -> "admin";
			default -> "single";
		};
		long started = System.nanoTime();
		try {
			Attempt attempt = attempt(userId, conversationId, reason, rateLimited ? rateLimiter.rate() : null);
			long took = System.nanoTime() - started;
			metrics.record(endpoint, StopMetrics.outcome(attempt.result()), took);
			// the audit line is this stop's one log line: who, what, outcome, latency
			if (auditNoRun || attempt.result() == StopResult.CONFIRMED || attempt.result() == StopResult.REQUESTED) {
				audit.record(new StopAudit.Entry(actor, userId, conversationId, attempt.runId(), reason,
						StopMetrics.outcome(attempt.result()), took / 1000, Instant.now()));
			}
			return attempt.result();
		}
		catch (ErrorResponseException refused) {
			// refused before acting (rate limit): counted, nothing to audit
			metrics.record(endpoint, "rate_limited", System.nanoTime() - started);
			throw refused;
		}
		catch (RuntimeException ex) {
			long took = System.nanoTime() - started;
			metrics.record(endpoint, "error", took);
			audit.record(new StopAudit.Entry(actor, userId, conversationId, null, reason, "error", took / 1000,
					Instant.now()));
			throw ex;
		}
	}

	/**
	 * The first look takes the permit and, where one script can reach the worker's keys
	 * (not on Redis Cluster), already records and publishes the stop: one round trip
	 * before the wait for the worker's answer. A queued run claimed meanwhile is looked
	 * at again.
	 */
	private Attempt attempt(String userId, String conversationId, String reason, StopRequests.@Nullable Rate rate) {
		for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
			StopTarget target;
			StopRequests.Signalled signalled = null;
			if (attempt == 0) {
				StopRequests.Lookup lookup = stopRequests.request(userId, conversationId, rate,
						stopRun("", userId, conversationId, reason));
				if (!(lookup instanceof StopRequests.Lookup.Found found)) {
					throw rateLimiter.limited();
				}
				target = found.target();
				signalled = found.signalled();
			}
			else {
				target = registry.stopTarget(userId, conversationId);
			}
			switch (target) {
				case StopTarget.NotFound notFound -> {
					return new Attempt(StopResult.NOT_FOUND, null);
				}
				case StopTarget.RecentlyStopped stopped -> {
					return new Attempt(StopResult.ALREADY_STOPPED, stopped.runId());
				}
				case StopTarget.Active active when active.run().isQueued() -> {
					if (stopQueued(active.run(), reason)) {
						return new Attempt(StopResult.CONFIRMED, active.run().runId());
					}
					// a worker claimed it meanwhile: look again, it is running now
				}
				case StopTarget.Active active -> {
					return new Attempt(stopRunning(active.run(), reason, signalled), active.run().runId());
				}
			}
		}
		return new Attempt(StopResult.REQUESTED, null);
	}

	/** What one stop request achieved, and on which run. */
	private record Attempt(StopResult result, @Nullable String runId) {
	}

	/**
	 * No worker holds it yet: end it here. The worker that later reads the job finds it
	 * gone and skips it.
	 */
	private boolean stopQueued(RunRecord run, String reason) {
		Instant now = Instant.now();
		RunOutcome outcome = RunOutcome.stopped("", reason, now);
		if (!registry.finishQueued(run, outcome)) {
			return false;
		}
		events.publish(run.userId(), run.replyTo(),
				new RunEvent.RunStopped(run.runId(), run.conversationId(), reason, "", 0, now));
		outcome.messages(run.runId())
			.forEach(message -> events.toConversation(run.userId(),
					new RunEvent.MessageAdded(run.runId(), run.conversationId(), message, now)));
		return true;
	}

	private StopRun stopRun(String runId, String userId, String conversationId, String reason) {
		return new StopRun(UUID.randomUUID().toString(), runId, userId, conversationId, reason, inbox.gatewayId(),
				Instant.now());
	}

	/**
	 * Signals the stop unless the lookup already did ({@code signalled}), then waits for
	 * the owner's answer. The inbox keeps an answer that arrives before the wait begins.
	 */
	private StopResult stopRunning(RunRecord run, String reason, StopRequests.@Nullable Signalled signalled) {
		CompletableFuture<RunEvent> outcome = inbox.stopOutcome(run.runId());
		long receivers = signalled != null ? signalled.receivers()
				: stopRequests.signal(run.workerId(), stopRun(run.runId(), run.userId(), run.conversationId(), reason));
		if (receivers == 0) {
			if (liveness.isDead(run.workerId())) {
				// the owner is dead: interrupt its runs now rather than wait for the
				// reaper's tick. Not when Redis merely forgot it (its heartbeat key and
				// registration lost with a restart): that worker is alive, registers
				// again at its next heartbeat, and carries out the recorded stop
				inbox.forgetStopOutcome(run.runId(), outcome);
				reaper.reap(run.workerId());
				return StopResult.NOT_FOUND;
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
	 * the registry is also read: a stop marker for this run is the confirmation written
	 * in Redis.
	 */
	private StopResult awaitOutcome(RunRecord run, CompletableFuture<RunEvent> outcome) {
		long deadline = System.nanoTime() + confirmTimeout.toNanos();
		long slice = FIRST_SLICE.toNanos();
		try {
			while (true) {
				long left = deadline - System.nanoTime();
				if (left <= 0) {
					return StopResult.REQUESTED;
				}
				try {
					return switch (outcome.get(Math.min(slice, left), TimeUnit.NANOSECONDS)) {
						case RunEvent.RunStopped stopped -> StopResult.CONFIRMED;
						case RunEvent.StopIgnored ignored when "completed".equals(ignored.cause()) ->
							StopResult.NOT_FOUND;
						default -> afterIgnored(run);
					};
				}
				catch (TimeoutException ex) {
					slice = POLL_SLICE.toNanos();
					if (registry.stopTarget(run.userId(),
							run.conversationId()) instanceof StopTarget.RecentlyStopped stopped
							&& stopped.runId().equals(run.runId())) {
						return StopResult.CONFIRMED;
					}
				}
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return StopResult.REQUESTED;
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
	private StopResult afterIgnored(RunRecord run) {
		return switch (registry.stopTarget(run.userId(), run.conversationId())) {
			case StopTarget.RecentlyStopped stopped when stopped.runId().equals(run.runId()) -> StopResult.CONFIRMED;
			case StopTarget.Active active when active.run().runId().equals(run.runId()) -> StopResult.REQUESTED;
			default -> StopResult.NOT_FOUND;
		};
	}

}
