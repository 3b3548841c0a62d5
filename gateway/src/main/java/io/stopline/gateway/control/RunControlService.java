package io.stopline.gateway.control;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.stopline.gateway.GatewayProperties;
import io.stopline.gateway.inbox.GatewayInbox;
import io.stopline.gateway.system.Problems;
import io.stopline.protocol.RunControl;
import io.stopline.protocol.RunEvent;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.run.RunRecord;
import io.stopline.core.events.RunEvents;

import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;

/**
 * Sends a pause or resume to the worker that runs the caller's conversation and waits
 * (bounded) for its answer. The run is looked up under the caller's own user id, like a
 * stop: another user's run cannot be found.
 */
@Service
class RunControlService {

	/** What a pause or resume achieved. */
	enum Result {

		/** the run is now in the asked state */
		DONE,
		/** sent, but no answer within the bound */
		REQUESTED

	}

	private final ConversationRegistry registry;

	private final GatewayInbox inbox;

	private final RunEvents events;

	private final Duration confirmTimeout;

	RunControlService(ConversationRegistry registry, GatewayInbox inbox, RunEvents events,
			GatewayProperties properties) {
		this.registry = registry;
		this.inbox = inbox;
		this.events = events;
		this.confirmTimeout = properties.stopConfirmTimeout();
	}

	Result send(String userId, String conversationId, String action) {
		RunRecord run = registry.find(userId, conversationId).orElseThrow(() -> Problems.noActiveRun(conversationId));
		if (run.isQueued() || run.workerId() == null) {
			throw Problems.of(HttpStatus.CONFLICT,
					"The run of conversation " + conversationId + " has not started yet; try again in a moment.");
		}
		CompletableFuture<RunEvent> outcome = inbox.controlOutcome(action, run.runId());
		try {
			RunControl command = new RunControl(action, run.runId(), userId, conversationId, inbox.gatewayId(),
					Instant.now());
			events.toWorker(run.workerId(), command);
			return switch (outcome.get(confirmTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
				case RunEvent.ControlIgnored ignored -> throw Problems.noActiveRun(conversationId);
				default -> Result.DONE;
			};
		}
		catch (TimeoutException ex) {
			return Result.REQUESTED;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return Result.REQUESTED;
		}
		catch (ExecutionException ex) {
			throw new IllegalStateException(action + " failed", ex);
		}
		finally {
			inbox.forgetControlOutcome(action, run.runId(), outcome);
		}
	}

}
