package io.stopline.starter;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;

import io.stopline.core.liveness.DeadWorkerReaper;
import io.stopline.core.liveness.WorkerLiveness;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.run.ConversationRegistry.StopTarget;
import io.stopline.core.run.RunRecord;
import io.stopline.core.stop.StopRequests;
import io.stopline.protocol.StopReason;
import io.stopline.protocol.StopRun;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops a conversation's run wherever it runs, as a Stopline gateway does: one script
 * looks the run up and records and publishes the stop to its owner (or leaves a tombstone
 * for a run id not started yet); then the owner's confirmation is awaited. The
 * confirmation is read from the registry (the stop marker the owner writes with the
 * partial answer) rather than heard on an inbox: a few milliseconds later, but nothing to
 * subscribe and nothing lost with a dropped connection.
 */
final class Stops {

	private static final Logger log = LoggerFactory.getLogger(Stops.class);

	private static final int ATTEMPTS = 20;

	private static final Duration QUEUED_RETRY = Duration.ofMillis(10);

	private static final Duration POLL = Duration.ofMillis(5);

	private final StopRequests requests;

	private final ConversationRegistry registry;

	private final WorkerLiveness liveness;

	private final DeadWorkerReaper reaper;

	private final String nodeId;

	private final StarterProperties properties;

	Stops(StopRequests requests, ConversationRegistry registry, WorkerLiveness liveness, DeadWorkerReaper reaper,
			String nodeId, StarterProperties properties) {
		this.requests = requests;
		this.registry = registry;
		this.liveness = liveness;
		this.reaper = reaper;
		this.nodeId = nodeId;
		this.properties = properties;
	}

	StopResult stop(String userId, String conversationId, @Nullable String runId, @Nullable Integer seenTokens,
			StopReason reason) {
		for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
			StopRun stop = new StopRun(UUID.randomUUID().toString(), "", userId, conversationId, reason, nodeId,
					Instant.now(), seenTokens);
			StopRequests.Lookup lookup = requests.request(userId, conversationId, null, stop, runId,
					properties.tombstoneTtl());
			switch (lookup) {
				case StopRequests.Lookup.Limited limited -> {
					return StopResult.REQUESTED;
				}
				case StopRequests.Lookup.StoppedBefore before -> {
					return StopResult.STOPPED_BEFORE;
				}
				case StopRequests.Lookup.Waiting waiting -> {
					// a gateway's waiting run (on_active), removed: it never starts
					return StopResult.CONFIRMED;
				}
				case StopRequests.Lookup.Found found -> {
					StopResult result = stop(found, stop);
					if (result != null) {
						return result;
					}
				}
			}
			// still queued: its owner claims it within milliseconds, then it is stopped
			LockSupport.parkNanos(QUEUED_RETRY.toNanos());
		}
		return StopResult.REQUESTED;
	}

	private @Nullable StopResult stop(StopRequests.Lookup.Found found, StopRun stop) {
		return switch (found.target()) {
			case StopTarget.NotFound notFound -> StopResult.NOT_FOUND;
			case StopTarget.RecentlyStopped stopped -> StopResult.ALREADY_STOPPED;
			case StopTarget.Active active when active.run().isQueued() -> null;
			case StopTarget.Active active -> stopRunning(active.run(), stop, found.signalled());
		};
	}

	private StopResult stopRunning(RunRecord run, StopRun template, StopRequests.@Nullable Signalled signalled) {
		String owner = run.workerId();
		long receivers = signalled != null ? signalled.receivers()
				: requests.signal(owner,
						new StopRun(template.requestId(), run.runId(), template.userId(), template.conversationId(),
								template.reason(), nodeId, template.requestedAt(), template.seenTokens()));
		if (receivers == 0 && owner != null && liveness.isDead(owner)) {
			// the owner is dead: its runs are interrupted now rather than at the reaper's
			// next tick
			reaper.reap(owner);
			return StopResult.NOT_FOUND;
		}
		if (receivers == 0) {
			log.warn("no subscriber heard the stop of run {} on {}; it waits in the recorded requests", run.runId(),
					owner);
		}
		return awaitConfirmation(run);
	}

	private StopResult awaitConfirmation(RunRecord run) {
		long deadline = System.nanoTime() + properties.stopConfirmTimeout().toNanos();
		while (System.nanoTime() < deadline) {
			StopTarget now = registry.stopTarget(run.userId(), run.conversationId());
			if (now instanceof StopTarget.RecentlyStopped stopped && stopped.runId().equals(run.runId())) {
				return StopResult.CONFIRMED;
			}
			if (!(now instanceof StopTarget.Active active && active.run().runId().equals(run.runId()))) {
				// it ended otherwise (completed) before the stop reached it
				return StopResult.NOT_FOUND;
			}
			LockSupport.parkNanos(POLL.toNanos());
		}
		return StopResult.REQUESTED;
	}

}
