package io.stopline.gateway.chat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import io.stopline.gateway.GatewayProperties;
import io.stopline.gateway.inbox.GatewayInbox;
import io.stopline.gateway.system.Problems;
import io.stopline.protocol.Json;
import io.stopline.protocol.RunEvent;
import io.stopline.protocol.StartRun;
import io.stopline.core.schema.ConversationIds;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.run.ConversationRegistry.Reservation;
import io.stopline.protocol.HistoryMessage;
import io.stopline.core.schema.Keys;
import io.stopline.core.run.RunOutcome;
import io.stopline.core.events.RunEvents;
import io.stopline.core.run.RunRecord;
import org.jspecify.annotations.Nullable;
import org.redisson.api.RStream;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamAddArgs;
import org.redisson.client.codec.StringCodec;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import org.springframework.web.ErrorResponseException;

/**
 * Starts runs: reserve the conversation (409 when it already has a run), open the event
 * stream, and queue the run for the workers. Also recovers the end of a run whose
 * terminal event this gateway missed.
 */
@Service
class ChatService {

	private final ConversationRegistry registry;

	private final GatewayInbox inbox;

	private final RStream<String, String> jobs;

	private final GatewayProperties properties;

	private final RunEvents events;

	ChatService(ConversationRegistry registry, GatewayInbox inbox, RedissonClient redisson, RunEvents events,
			GatewayProperties properties) {
		this.events = events;
		this.registry = registry;
		this.inbox = inbox;
		this.jobs = redisson.getStream(Keys.JOBS, StringCodec.INSTANCE);
		this.properties = properties;
	}

	ChatSession start(String userId, ChatRequest request, @Nullable String headerConversationId) {
		String conversationId = conversationId(request, headerConversationId);
		Instant now = Instant.now();
		RunRecord run = RunRecord.queued("run-" + UUID.randomUUID(), userId, conversationId, request.model(),
				inbox.gatewayId(), now);
		// listen first: a stop may end the run the moment it is reserved
		ChatSession session = new ChatSession(run, inbox.openStream(run.runId()));
		Reservation reservation;
		HistoryMessage userMessage = HistoryMessage.user(request.lastUserMessage(), run.runId(), now);
		try {
			reservation = registry.reserve(run, userMessage, properties.maxActiveRunsPerUser());
		}
		catch (RuntimeException ex) {
			inbox.closeStream(run.runId());
			throw ex;
		}
		if (reservation instanceof Reservation.TooManyActive tooMany) {
			inbox.closeStream(run.runId());
			ErrorResponseException limited = Problems.of(HttpStatus.TOO_MANY_REQUESTS, "You have " + tooMany.active()
					+ " active runs, the most allowed; stop one or wait for one to end.");
			limited.getHeaders().set(HttpHeaders.RETRY_AFTER, "1");
			throw limited;
		}
		if (reservation instanceof Reservation.Busy) {
			inbox.closeStream(run.runId());
			throw Problems.of(HttpStatus.CONFLICT,
					"Conversation " + conversationId + " already has an active run; stop it or wait for it to end.");
		}
		announce(run, userMessage);
		try {
			jobs.add(StreamAddArgs.entry("job", Json.write(startRun(run, request))));
		}
		catch (RuntimeException ex) {
			inbox.closeStream(run.runId());
			Instant failedAt = Instant.now();
			if (registry.finishQueued(run, RunOutcome.failed("", "The run could not be queued.", failedAt))) {
				events.toConversationAsync(run.userId(), new RunEvent.RunFailed(run.runId(), run.conversationId(),
						"The run could not be queued.", "", failedAt));
			}
			throw Problems.of(HttpStatus.SERVICE_UNAVAILABLE, "The run could not be queued; try again.");
		}
		return session;
	}

	/** Tells the conversation's watchers; a failure here must not fail the request. */
	private void announce(RunRecord run, HistoryMessage userMessage) {
		// not awaited: the start of a chat should not wait for its watchers
		events.toConversationAsync(run.userId(),
				new RunEvent.MessageAdded(run.runId(), run.conversationId(), userMessage, userMessage.createdAt()));
	}

	void end(ChatSession session) {
		inbox.closeStream(session.run().runId());
	}

	/**
	 * Called when no event came for a while: if the run is no longer registered, its
	 * terminal event was lost on the way here, so rebuild it from the history. Empty
	 * while the run is still active.
	 */
	Optional<RunEvent> recoverEnd(ChatSession session) {
		RunRecord run = session.run();
		Optional<RunRecord> current = registry.find(run.userId(), run.conversationId());
		if (current.isPresent() && current.get().runId().equals(run.runId())) {
			session.found();
			return Optional.empty();
		}
		List<HistoryMessage> history = registry.history(run.userId(), run.conversationId());
		for (int i = history.size() - 1; i >= 0; i--) {
			HistoryMessage message = history.get(i);
			if ("assistant".equals(message.role()) && run.runId().equals(message.runId())) {
				return Optional.of(toEvent(run, message));
			}
		}
		// Neither registered nor ended: Redis may have lost its data, and the owner
		// re-registers its runs at its
		// next heartbeat. Only a run missing for longer than that is given up.
		if (session.missingFor().compareTo(properties.lostRunGrace()) < 0) {
			return Optional.empty();
		}
		return Optional
			.of(new RunEvent.RunFailed(run.runId(), run.conversationId(), "The run was lost.", "", Instant.now()));
	}

	Duration recoveryInterval() {
		return Duration.ofSeconds(1);
	}

	private static RunEvent toEvent(RunRecord run, HistoryMessage message) {
		return switch (message.status()) {
			case RunOutcome.COMPLETE -> new RunEvent.RunCompleted(run.runId(), run.conversationId(), message.content(),
					-1, message.createdAt());
			case RunOutcome.STOPPED -> new RunEvent.RunStopped(run.runId(), run.conversationId(),
					String.valueOf(message.stopReason()), message.content(), -1, message.createdAt());
			default -> new RunEvent.RunFailed(run.runId(), run.conversationId(),
					message.error() != null ? message.error() : "The run failed.", message.content(),
					message.createdAt());
		};
	}

	private StartRun startRun(RunRecord run, ChatRequest request) {
		List<StartRun.ChatMessage> messages = request.messages()
			.stream()
			.map(message -> new StartRun.ChatMessage(message.role(), message.content()))
			.toList();
		int maxTokens = request.maxTokens() != null ? request.maxTokens() : properties.defaultMaxTokens();
		return new StartRun(run.runId(), run.userId(), run.conversationId(), run.agentName(), messages, maxTokens,
				run.replyTo(), run.queuedAt(), request.maxDurationSeconds());
	}

	private static String conversationId(ChatRequest request, @Nullable String header) {
		String id = request.conversationId() != null ? request.conversationId() : header;
		return id == null ? ConversationIds.newId() : Problems.requireConversationId(id);
	}

}
