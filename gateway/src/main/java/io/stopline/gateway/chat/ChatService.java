package io.stopline.gateway.chat;

import io.stopline.protocol.RunStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

import io.stopline.gateway.GatewayProperties;
import io.stopline.gateway.inbox.GatewayInbox;
import io.stopline.gateway.page.AgentProperties;
import io.stopline.gateway.stop.ReplacedRuns;
import io.stopline.gateway.system.Problems;
import io.stopline.protocol.Json;
import io.stopline.protocol.StopReason;
import io.stopline.protocol.RunEvent;
import io.stopline.protocol.TokenFrames;
import io.stopline.protocol.RunControl;
import io.stopline.protocol.StartRun;
import io.stopline.core.schema.ConversationIds;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.run.ConversationRegistry.Reservation;
import io.stopline.core.run.ConversationRegistry.WhenBusy;
import io.stopline.protocol.OnActive;
import io.stopline.protocol.HistoryMessage;
import io.stopline.core.schema.Keys;
import io.stopline.core.run.RunOutcome;
import io.stopline.core.events.RunEvents;
import io.stopline.core.run.RunRecord;
import io.stopline.protocol.StopRun;
import io.stopline.core.run.RunReplays;
import org.jspecify.annotations.Nullable;
import org.redisson.api.RStream;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamAddArgs;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import org.springframework.web.ErrorResponseException;

/**
 * Starts runs: reserve the conversation (409 when it already has a run, unless the
 * request's {@code on_active} lets the run wait behind it), open the event stream, and
 * queue the run for the workers. Also recovers the end of a run whose terminal event this
 * gateway missed.
 */
@Service
class ChatService {

	private static final Logger log = LoggerFactory.getLogger(ChatService.class);

	/**
	 * How long a joined run's conversation counts as watched (a queued run reads it as it
	 * starts).
	 */
	private static final Duration JOINED_WATCH = Duration.ofSeconds(60);

	private final ConversationRegistry registry;

	private final GatewayInbox inbox;

	private final RStream<String, String> jobs;

	private final GatewayProperties properties;

	private final RunEvents events;

	private final RunReplays replays;

	private final AgentProperties agents;

	private final ReplacedRuns replaced;

	private final QueueProperties queue;

	private final StreamRecovery recovery;

	ChatService(ConversationRegistry registry, GatewayInbox inbox, RedissonClient redisson, RunEvents events,
			GatewayProperties properties, RunReplays replays, AgentProperties agents, ReplacedRuns replaced,
			QueueProperties queue, StreamRecovery recovery) {
		this.recovery = recovery;
		this.agents = agents;
		this.replaced = replaced;
		this.queue = queue;
		this.events = events;
		this.replays = replays;
		this.registry = registry;
		this.inbox = inbox;
		this.jobs = redisson.getStream(Keys.JOBS, StringCodec.INSTANCE);
		this.properties = properties;
	}

	ChatSession start(String userId, ChatRequest request, @Nullable String headerConversationId,
			@Nullable String idempotencyKey) {
		requireWithinLimit(request);
		String conversationId = conversationId(request, headerConversationId);
		Instant now = Instant.now();
		RunRecord run = RunRecord.queued(runId(request, idempotencyKey), userId, conversationId, request.model(),
				inbox.gatewayId(), now);
		// listen first: a stop may end the run the moment it is reserved
		ChatSession session = new ChatSession(run, inbox.openStream(run.runId()), () -> inbox.closeStream(run.runId()));
		Reservation reservation;
		HistoryMessage userMessage = HistoryMessage.user(request.lastUserMessage(), run.runId(), now);
		OnActive onActive = request.whenActive();
		String job = Json.write(startRun(run, request));
		ConversationRegistry.Enqueue enqueue = new ConversationRegistry.Enqueue(job, announcement(run, userMessage));
		try {
			reservation = registry
				.reserve(
						run, userMessage, properties.maxActiveRunsPerUser(), onActive == OnActive.REJECT
								? WhenBusy.REJECT : new WhenBusy(onActive, job, queue.maxQueuedPerConversation()),
						enqueue);
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
		if (reservation instanceof Reservation.StoppedBefore before) {
			// stopped before it arrived: it never starts, and says so
			inbox.closeStream(run.runId());
			StopRun stop = Json.read(before.request(), StopRun.class);
			return ChatSession.ended(run,
					new RunEvent.RunStopped(run.runId(), conversationId, stop.reason(), "", 0, stop.requestedAt()));
		}
		if (reservation instanceof Reservation.Ended) {
			inbox.closeStream(run.runId());
			return ChatSession.ended(run, endOf(run).orElseGet(() -> new RunEvent.RunFailed(run.runId(), conversationId,
					"The run has ended.", "", Instant.now())));
		}
		if (reservation instanceof Reservation.AlreadyWaiting waiting) {
			// the same run id again while it waits: follow it once it starts
			inbox.closeStream(run.runId());
			return join(waiting.waiting());
		}
		if (reservation instanceof Reservation.Busy busy && busy.active().runId().equals(run.runId())) {
			// the same run id again (a retry, another tab): join the run, do not start
			// one
			inbox.closeStream(run.runId());
			return join(busy.active());
		}
		if (reservation instanceof Reservation.Busy) {
			inbox.closeStream(run.runId());
			throw Problems.of(HttpStatus.CONFLICT,
					"Conversation " + conversationId + " already has an active run; stop it or wait for it to end.");
		}
		if (reservation instanceof Reservation.Waiting waiting) {
			// the run starts when the active one's outcome is recorded (the finish starts
			// it); a replacement stops that run now
			if (onActive.replaces()) {
				replaced.stop(waiting.active());
			}
			return session;
		}
		if (!(reservation instanceof Reservation.Reserved)) {
			inbox.closeStream(run.runId());
			throw refusedWhileActive(reservation, conversationId);
		}
		session.keep(new ChatSession.Request(userMessage, job, enqueue));
		if (reservation instanceof Reservation.Reserved reserved && reserved.queued()) {
			// announced and queued by the reservation itself
			return session;
		}
		queue(run, userMessage, job);
		return session;
	}

	/**
	 * Announces a run reserved without its job, and queues the job (Redis Cluster: the
	 * reservation could not do it in its script).
	 */
	private void queue(RunRecord run, HistoryMessage userMessage, String job) {
		announce(run, userMessage);
		try {
			jobs.add(StreamAddArgs.entry("job", job));
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
	}

	/**
	 * The answers of {@code on_active} that start nothing: the waiting list is full
	 * (429), or another message already replaces the active run (409: one replacement
	 * wins).
	 */
	private static ErrorResponseException refusedWhileActive(Reservation reservation, String conversationId) {
		return switch (reservation) {
			case Reservation.QueueFull full -> {
				ErrorResponseException limited = Problems.of(HttpStatus.TOO_MANY_REQUESTS,
						full.waiting() + " messages already wait for the active run of conversation " + conversationId
								+ ", the most allowed; wait for one to start or stop one.");
				limited.getHeaders().set(HttpHeaders.RETRY_AFTER, "1");
				yield limited;
			}
			case Reservation.AlreadyReplaced other -> {
				ErrorResponseException conflict = Problems.of(HttpStatus.CONFLICT, "Another message (run "
						+ other.runId() + ") already replaces the active run of conversation " + conversationId + ".");
				conflict.getBody().setProperty("replacing_run_id", other.runId());
				yield conflict;
			}
			default -> throw new IllegalStateException("unexpected reservation " + reservation);
		};
	}

	/** The user's message for the conversation's watchers, as its channel carries it. */
	private static ConversationRegistry.Announcement.Publication announcement(RunRecord run,
			HistoryMessage userMessage) {
		return new ConversationRegistry.Announcement.Publication(
				Json.write(new RunEvent.MessageAdded(run.runId(), run.conversationId(), userMessage,
						userMessage.createdAt())),
				List.of(Keys.conversationEvents(run.userId(), run.conversationId())));
	}

	/** Tells the conversation's watchers; a failure here must not fail the request. */
	private void announce(RunRecord run, HistoryMessage userMessage) {
		// not awaited: the start of a chat should not wait for its watchers
		events.toConversationAsync(run.userId(),
				new RunEvent.MessageAdded(run.runId(), run.conversationId(), userMessage, userMessage.createdAt()));
	}

	void end(ChatSession session) {
		session.close();
	}

	/**
	 * A second send of an active run's id follows that run from the conversation's event
	 * channel, on whichever gateway: the channel carries the run's end, and its tokens
	 * once the owner is asked for a snapshot of the answer so far (the stream starts with
	 * it). A run still queued publishes its tokens there once it starts, since the
	 * conversation is marked watched first.
	 */
	private ChatSession join(RunRecord active) {
		BlockingQueue<RunEvent> queue = new LinkedBlockingQueue<>();
		RTopic channel = events.conversation(active.userId(), active.conversationId());
		int listener = channel.addListener(String.class, (name, raw) -> {
			try {
				for (RunEvent event : TokenFrames.decodeEvents(raw)) {
					if (event.runId().equals(active.runId())) {
						queue.add(event);
					}
				}
			}
			catch (RuntimeException ex) {
				// not a run event of ours
			}
		});
		ChatSession session = new ChatSession(active, queue, () -> channel.removeListener(listener));
		try {
			events.markWatched(active.userId(), active.conversationId(), JOINED_WATCH);
			RunRecord now = registry.find(active.userId(), active.conversationId()).orElse(active);
			if (now.runId().equals(active.runId()) && !now.isQueued() && now.workerId() != null) {
				events.toWorker(now.workerId(), new RunControl(RunControl.SNAPSHOT, now.runId(), now.userId(),
						now.conversationId(), inbox.gatewayId(), Instant.now()));
			}
		}
		catch (RuntimeException ex) {
			// without the snapshot the stream still ends with the recorded answer
		}
		return session;
	}

	/** The end of a run that is no longer registered, read back from the history. */
	private Optional<RunEvent> endOf(RunRecord run) {
		return endOf(run, registry.history(run.userId(), run.conversationId()));
	}

	private static Optional<RunEvent> endOf(RunRecord run, List<HistoryMessage> history) {
		for (int i = history.size() - 1; i >= 0; i--) {
			HistoryMessage message = history.get(i);
			if ("assistant".equals(message.role()) && run.runId().equals(message.runId())) {
				return Optional.of(toEvent(run, message));
			}
		}
		return Optional.empty();
	}

	/**
	 * Called when no event came for a while: if the run is no longer registered, its
	 * terminal event was lost on the way here: take it from the run's replay, else
	 * rebuild it from the history. Empty while the run is still active.
	 */
	Optional<RunEvent> recoverEnd(ChatSession session) {
		RunRecord run = session.run();
		Optional<RunRecord> current = registry.find(run.userId(), run.conversationId());
		if (current.isPresent() && current.get().runId().equals(run.runId())) {
			session.found();
			return Optional.empty();
		}
		if (current.isPresent() && registry.isWaiting(run.userId(), run.conversationId(), run.runId())) {
			// waits behind the active run (on_active)
			session.found();
			return Optional.empty();
		}
		Optional<RunReplays.Replay> replay = replays.find(run.userId(), run.conversationId(), run.runId());
		if (replay.isPresent()) {
			return Optional.of(replay.get().terminal());
		}
		List<HistoryMessage> history = registry.history(run.userId(), run.conversationId());
		Optional<RunEvent> end = endOf(run, history);
		if (end.isPresent()) {
			return end;
		}
		// Neither registered nor ended: Redis may have lost its data, and the owner
		// re-registers its runs at its next ownership check. Only a run missing for
		// longer than that is given up.
		Duration missing = session.missingFor();
		if (missing.compareTo(properties.reserveAgainAfter()) >= 0 && session.mayReserveAgain()
				&& untouchedSince(run, history)) {
			return reserveAgain(session);
		}
		if (missing.compareTo(properties.lostRunGrace()) < 0) {
			return Optional.empty();
		}
		return Optional
			.of(new RunEvent.RunFailed(run.runId(), run.conversationId(), "The run was lost.", "", Instant.now()));
	}

	/**
	 * Whether the history holds nothing of the run and nothing newer than its request: a
	 * run that a newer message replaced ({@code on_active: rollback} removes its user
	 * message and records no outcome), or a conversation that moved on, is never reserved
	 * again.
	 */
	private static boolean untouchedSince(RunRecord run, List<HistoryMessage> history) {
		return history.stream()
			.noneMatch(message -> run.runId().equals(message.runId()) || message.createdAt().isAfter(run.queuedAt()));
	}

	/**
	 * The run vanished from Redis with every trace of it (record, user message, outcome)
	 * before this gateway heard anything of it, and no worker put it back within
	 * {@code reserve-again-after}: a Sentinel failover lost its reservation and job,
	 * written to the old master in its last moments (issue 16). Reserved and queued
	 * again, once, with the same run id, user message and job, through the same fenced
	 * script: a conversation that took another run meanwhile refuses it, and a run that
	 * did start (its record or outcome came back) is found instead. Empty while the run
	 * waits again, or when it was not reserved again (then {@code lost-run-grace}
	 * decides, from the next check on).
	 */
	private Optional<RunEvent> reserveAgain(ChatSession session) {
		ChatSession.Request request = session.takeRequest();
		if (request == null) {
			return Optional.empty();
		}
		RunRecord lost = session.run();
		// queued now: the queued-runs sweep measures from the new reservation
		RunRecord run = RunRecord.queued(lost.runId(), lost.userId(), lost.conversationId(), lost.agentName(),
				lost.replyTo(), Instant.now());
		Reservation again = registry.reserve(run, request.userMessage(), properties.maxActiveRunsPerUser(),
				WhenBusy.REJECT, request.enqueue());
		switch (again) {
			case Reservation.Reserved reserved -> {
				if (!reserved.queued()) {
					queue(run, request.userMessage(), request.job());
				}
				log.warn("run {} of conversation {} vanished from Redis before any worker took it (a failover lost "
						+ "its reservation): reserved and queued again", run.runId(), run.conversationId());
				session.found();
				return Optional.empty();
			}
			case Reservation.Busy busy when busy.active().runId().equals(run.runId()) -> {
				session.found();
				return Optional.empty();
			}
			case Reservation.StoppedBefore before -> {
				StopRun stop = Json.read(before.request(), StopRun.class);
				return Optional.of(new RunEvent.RunStopped(run.runId(), run.conversationId(), stop.reason(), "", 0,
						stop.requestedAt()));
			}
			case Reservation.Ended ended -> {
				return endOf(run);
			}
			default -> {
				// another run holds the conversation now, or the user is at the cap
				return Optional.empty();
			}
		}
	}

	/**
	 * The next event of the session's run; when none comes for a while, the recovery tick
	 * checks whether the run ended without this gateway hearing.
	 */
	RunEvent next(ChatSession session) throws InterruptedException {
		return recovery.next(session, this::recoverEnd);
	}

	private static RunEvent toEvent(RunRecord run, HistoryMessage message) {
		return switch (RunStatus.of(message.status())) {
			case COMPLETE -> new RunEvent.RunCompleted(run.runId(), run.conversationId(), message.content(), -1,
					message.createdAt());
			case STOPPED -> new RunEvent.RunStopped(run.runId(), run.conversationId(),
					message.stopReason() == null ? StopReason.USER : StopReason.of(message.stopReason()),
					message.content(), -1, message.createdAt());
			case FAILED,
					INTERRUPTED ->
				new RunEvent.RunFailed(run.runId(), run.conversationId(),
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

	/**
	 * The client's run id ({@code run_id}, or the {@code Idempotency-Key} header), else a
	 * new one.
	 */
	private static String runId(ChatRequest request, @Nullable String idempotencyKey) {
		if (idempotencyKey != null) {
			Problems.requireRunId(idempotencyKey, "Idempotency-Key");
		}
		if (request.runId() != null && idempotencyKey != null && !request.runId().equals(idempotencyKey)) {
			throw Problems.of(HttpStatus.BAD_REQUEST, "run_id and Idempotency-Key differ.");
		}
		String chosen = request.runId() != null ? request.runId() : idempotencyKey;
		return chosen != null ? chosen : "run-" + UUID.randomUUID();
	}

	/** The agent's output limit, before anything is reserved. */
	private void requireWithinLimit(ChatRequest request) {
		int limit = agents.maxTokensOf(request.model());
		if (request.maxTokens() != null && request.maxTokens() > limit) {
			throw Problems.of(HttpStatus.BAD_REQUEST,
					"max_tokens: must be at most " + limit + " for agent " + request.model() + ".");
		}
	}

	private static String conversationId(ChatRequest request, @Nullable String header) {
		String id = request.conversationId() != null ? request.conversationId() : header;
		return id == null ? ConversationIds.newId() : Problems.requireConversationId(id);
	}

}
