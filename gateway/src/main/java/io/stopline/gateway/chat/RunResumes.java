package io.stopline.gateway.chat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

import io.stopline.gateway.inbox.GatewayInbox;
import io.stopline.gateway.stream.ConversationWatchers;
import io.stopline.gateway.system.Problems;
import io.stopline.protocol.RunControl;
import io.stopline.protocol.RunEvent;
import io.stopline.protocol.TokenOffsets;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.protocol.HistoryMessage;
import io.stopline.core.events.RunEvents;
import io.stopline.core.run.RunRecord;
import io.stopline.core.run.RunReplays;
import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import org.springframework.web.ErrorResponseException;

/**
 * Resumes a run's chat stream after the token index a client holds, on any gateway. The
 * join is the one a WebSocket makes mid-run: follow the conversation's channel first,
 * mark it watched, then look the run up. A running run is asked for a snapshot (taken
 * between two tokens, with where its frames end): the client gets the snapshot's text
 * after its index, then the frames from the snapshot's token count on, so nothing is
 * missing and nothing doubled. A queued run is followed from its first token. An ended
 * run is replayed from what its worker kept for the resume grace ({@link RunReplays}).
 */
@Service
class RunResumes {

	/** A run's frames queued for one resumed stream at most (see the inbox's bound). */
	private static final int MAX_QUEUED = 4096;

	private static final Duration SNAPSHOT_WAIT = Duration.ofSeconds(3);

	private static final Duration SUBSCRIBE_BOUND = Duration.ofSeconds(10);

	/** How long a replay the worker is writing right now is waited for. */
	private static final Duration REPLAY_WAIT = Duration.ofSeconds(1);

	/** A run that ended this recently may still be writing its replay. */
	private static final Duration JUST_ENDED = Duration.ofSeconds(5);

	private final ConversationRegistry registry;

	private final ConversationWatchers watchers;

	private final RunEvents events;

	private final RunReplays replays;

	private final GatewayInbox inbox;

	RunResumes(ConversationRegistry registry, ConversationWatchers watchers, RunEvents events, RunReplays replays,
			GatewayInbox inbox) {
		this.registry = registry;
		this.watchers = watchers;
		this.events = events;
		this.replays = replays;
		this.inbox = inbox;
	}

	/**
	 * Where a resumed stream starts: {@code replay} is the text after the client's index,
	 * then {@code pending} events are written, then (unless one of them ended the run)
	 * the live session is relayed. Close it when the stream ends.
	 */
	record Resumption(ChatSession session, String replay, TokenOrder tokens, List<RunEvent> pending,
			Runnable onClose) implements AutoCloseable {

		@Override
		public void close() {
			onClose.run();
		}

	}

	/**
	 * @throws ErrorResponseException 404 for a run the user does not have (or ended more
	 * than the grace ago), 400 for an index the run never ended an event at, 503 when the
	 * run's worker does not answer
	 */
	Resumption open(String userId, String conversationId, String runId, int after) {
		BlockingQueue<RunEvent> queue = new LinkedBlockingQueue<>();
		ConversationWatchers.Follower follower = event -> {
			if (event.runId().equals(runId)
					&& (!(event instanceof RunEvent.TokenGenerated) || queue.size() < MAX_QUEUED)) {
				queue.offer(event);
			}
		};
		Runnable close = () -> watchers.unfollow(userId, conversationId, follower);
		try {
			watchers.follow(userId, conversationId, follower).get(SUBSCRIBE_BOUND.toMillis(), TimeUnit.MILLISECONDS);
			events.markWatched(userId, conversationId, ConversationWatchers.WATCHED_TTL);
			Optional<RunRecord> active = registry.find(userId, conversationId).filter(run -> run.runId().equals(runId));
			Resumption resumption = active.isPresent() ? live(active.get(), after, queue, close)
					: ended(userId, conversationId, runId, after, queue, close);
			return resumption;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			close.run();
			throw unavailable("interrupted");
		}
		catch (java.util.concurrent.ExecutionException | TimeoutException ex) {
			close.run();
			throw unavailable("The conversation's events could not be followed; try again.");
		}
		catch (RuntimeException ex) {
			close.run();
			throw ex;
		}
	}

	private Resumption live(RunRecord run, int after, BlockingQueue<RunEvent> queue, Runnable close)
			throws InterruptedException {
		ChatSession session = new ChatSession(run, queue, () -> {
		});
		if (run.isQueued() || run.workerId() == null) {
			// nothing generated yet: its worker reads the watched mark when it claims it
			requireIndex(run.runId(), after, after == 0);
			return new Resumption(session, "", new TokenOrder(), List.of(), close);
		}
		List<RunEvent> early = new ArrayList<>();
		for (int attempt = 0; attempt < 2; attempt++) {
			events.toWorker(run.workerId(), new RunControl(RunControl.SNAPSHOT, run.runId(), run.userId(),
					run.conversationId(), inbox.gatewayId(), Instant.now()));
			long deadline = System.nanoTime() + SNAPSHOT_WAIT.toNanos();
			RunEvent event;
			while ((event = queue.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) != null) {
				if (event instanceof RunEvent.RunSnapshot snapshot) {
					return fromSnapshot(session, snapshot, after, queue, early, close);
				}
				if (event.isTerminal()) {
					// it ended before a snapshot: replay it whole, as recorded
					return fromEnd(run, waitForReplay(run, event), after, close);
				}
				early.add(event);
			}
		}
		throw unavailable("The run's worker did not answer; try again.");
	}

	private Resumption fromSnapshot(ChatSession session, RunEvent.RunSnapshot snapshot, int after,
			BlockingQueue<RunEvent> queue, List<RunEvent> early, Runnable close) {
		TokenOffsets offsets = snapshot.offsets() != null ? snapshot.offsets() : TokenOffsets.NONE;
		int from = after == snapshot.tokens() ? snapshot.content().length() : offsets.charsAt(after);
		requireIndex(session.run().runId(), after, after <= snapshot.tokens() && from >= 0);
		List<RunEvent> pending = new ArrayList<>(early);
		queue.drainTo(pending);
		return new Resumption(session, snapshot.content().substring(from),
				new TokenOrder(snapshot.tokens(), snapshot.content()), pending, close);
	}

	private Resumption ended(String userId, String conversationId, String runId, int after,
			BlockingQueue<RunEvent> queue, Runnable close) {
		Optional<RunReplays.Replay> replay = replays.find(userId, conversationId, runId);
		if (replay.isEmpty()) {
			RunEvent heard = queue.stream().filter(RunEvent::isTerminal).findFirst().orElse(null);
			if (heard != null || justEnded(userId, conversationId, runId)) {
				replay = poll(userId, conversationId, runId);
			}
		}
		if (replay.isEmpty()) {
			throw Problems.of(HttpStatus.NOT_FOUND, "Run " + runId + " of conversation " + conversationId
					+ " not found (unknown, or ended more than " + replays.grace().toSeconds() + " s ago).");
		}
		RunRecord run = RunRecord.queued(runId, userId, conversationId, replay.get().agentName(), inbox.gatewayId(),
				replay.get().queuedAt());
		return fromEnd(run, replay.get(), after, close);
	}

	/** A terminal event heard live: its replay follows it by at most a round trip. */
	private RunReplays.Replay waitForReplay(RunRecord run, RunEvent terminal) {
		return poll(run.userId(), run.conversationId(), run.runId())
			.orElse(new RunReplays.Replay(run.agentName(), run.queuedAt(), terminal, TokenOffsets.NONE));
	}

	private Resumption fromEnd(RunRecord run, RunReplays.Replay replay, int after, Runnable close) {
		RunEvent terminal = replay.terminal();
		String content = content(terminal);
		int tokens = switch (terminal) {
			case RunEvent.RunCompleted completed -> completed.tokens();
			case RunEvent.RunStopped stopped -> stopped.tokens();
			default -> replay.tokens();
		};
		int from = after == tokens ? content.length() : replay.offsets().charsAt(after);
		requireIndex(run.runId(), after, after <= tokens && from >= 0);
		from = Math.min(from, content.length());
		close.run();
		return new Resumption(new ChatSession(run, new LinkedBlockingQueue<>(), () -> {
		}), content.substring(from), new TokenOrder(Math.max(tokens, after), content), List.of(terminal), () -> {
		});
	}

	private static String content(RunEvent terminal) {
		return switch (terminal) {
			case RunEvent.RunCompleted completed -> completed.content();
			case RunEvent.RunStopped stopped -> stopped.content();
			case RunEvent.RunFailed failed -> failed.content();
			default -> "";
		};
	}

	private Optional<RunReplays.Replay> poll(String userId, String conversationId, String runId) {
		long deadline = System.nanoTime() + REPLAY_WAIT.toNanos();
		while (true) {
			Optional<RunReplays.Replay> replay = replays.find(userId, conversationId, runId);
			if (replay.isPresent() || System.nanoTime() > deadline) {
				return replay;
			}
			LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
		}
	}

	/** The history holds the run's answer, recorded a moment ago. */
	private boolean justEnded(String userId, String conversationId, String runId) {
		List<HistoryMessage> history = registry.history(userId, conversationId);
		Instant recent = Instant.now().minus(JUST_ENDED);
		for (int i = history.size() - 1; i >= 0; i--) {
			HistoryMessage message = history.get(i);
			if ("assistant".equals(message.role()) && runId.equals(message.runId())) {
				return message.createdAt().isAfter(recent);
			}
		}
		return false;
	}

	private static void requireIndex(String runId, int after, boolean valid) {
		if (!valid) {
			throw Problems.of(HttpStatus.BAD_REQUEST,
					"Run " + runId + " has no event with index " + after + " (Last-Event-ID / starting_after).");
		}
	}

	private static ErrorResponseException unavailable(String detail) {
		ErrorResponseException problem = Problems.of(HttpStatus.SERVICE_UNAVAILABLE, detail);
		problem.getHeaders().set(HttpHeaders.RETRY_AFTER, "1");
		return problem;
	}

	static @Nullable Integer parseIndex(String value) {
		if (value == null || !value.matches("\\d{1,9}")) {
			return null;
		}
		return Integer.parseInt(value);
	}

}
