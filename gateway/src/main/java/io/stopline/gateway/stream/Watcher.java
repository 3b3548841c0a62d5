package io.stopline.gateway.stream;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;

/**
 * One WebSocket watching one conversation. Events are queued by the Redis listener (never
 * blocking it) and written by this watcher's own virtual thread, so a slow client delays
 * nobody but itself. A client that lets {@code capacity} events pile up is disconnected
 * with 1013 (try again later); on reconnect it gets the state afresh.
 */
final class Watcher {

	private static final Logger log = LoggerFactory.getLogger(Watcher.class);

	static final CloseStatus TOO_SLOW = new CloseStatus(1013, "Too far behind; reconnect to get the state.");

	static final CloseStatus EXPIRED = CloseStatus.POLICY_VIOLATION.withReason("The token expired.");

	private static final Duration SUBSCRIBE_BOUND = Duration.ofSeconds(10);

	/** Queued in place of an event: send the state again (events may have been lost). */
	private static final String RESYNC = new String("resync");

	/** Queued in place of an event when the token expires: close the socket. */
	private static final String EXPIRE = new String("expire");

	/**
	 * One timer per watcher, at its token's expiry, instead of a timed wait per event (a
	 * virtual thread's timed wait schedules and cancels a timer at every wake-up).
	 */
	private static final ScheduledExecutorService EXPIRY = Executors
		.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("watcher-expiry").factory());

	private final WebSocketSession session;

	private final String userId;

	private final String conversationId;

	private final BlockingQueue<String> queue;

	private volatile boolean overflowed;

	private volatile @Nullable Thread sender;

	private final Instant expires;

	private @Nullable ScheduledFuture<?> expiry;

	/**
	 * A watcher whose socket is closed (1008) when its token expires at {@code expires}.
	 */
	Watcher(WebSocketSession session, String userId, String conversationId, int capacity, Instant expires) {
		this.expires = expires;
		this.session = session;
		this.userId = userId;
		this.conversationId = conversationId;
		this.queue = new ArrayBlockingQueue<>(capacity);
	}

	String userId() {
		return userId;
	}

	String conversationId() {
		return conversationId;
	}

	/** From the Redis listener: never blocks. */
	void offer(String json) {
		if (!queue.offer(json)) {
			overflowed = true;
		}
	}

	/** The subscription was re-established: whatever was published meanwhile is lost. */
	void resync() {
		offer(RESYNC);
	}

	/**
	 * Sends the state once subscribed, then the events in order, until the socket closes.
	 */
	void run(CompletableFuture<?> subscribed, StateSource state) {
		sender = Thread.currentThread();
		try {
			subscribed.get(SUBSCRIBE_BOUND.toMillis(), TimeUnit.MILLISECONDS);
			send(state.read(userId, conversationId));
			expiry = expireAt(expires);
			while (session.isOpen()) {
				String next = queue.take();
				if (next == EXPIRE) {
					session.close(EXPIRED);
					return;
				}
				if (overflowed) {
					session.close(TOO_SLOW);
					return;
				}
				send(next == RESYNC ? state.read(userId, conversationId) : next);
			}
		}
		catch (InterruptedException ex) {
			// the socket closed
		}
		catch (Exception ex) {
			log.debug("stream of conversation {} ended: {}", conversationId, ex.toString());
			closeQuietly(CloseStatus.SERVER_ERROR);
		}
		finally {
			if (expiry != null) {
				expiry.cancel(false);
			}
		}
	}

	/**
	 * Queues {@link #EXPIRE} at the token's expiry (a full queue closes the socket as too
	 * slow instead); null for a token that does not expire.
	 */
	private @Nullable ScheduledFuture<?> expireAt(Instant at) {
		long millis;
		try {
			millis = Math.max(0, Duration.between(Instant.now(), at).toMillis());
		}
		catch (ArithmeticException ex) {
			return null;
		}
		return EXPIRY.schedule(() -> offer(EXPIRE), millis, TimeUnit.MILLISECONDS);
	}

	void stop() {
		Thread current = sender;
		if (current != null) {
			current.interrupt();
		}
	}

	private void send(String json) throws IOException {
		session.sendMessage(new TextMessage(json));
	}

	private void closeQuietly(CloseStatus status) {
		try {
			session.close(status);
		}
		catch (IOException | RuntimeException ex) {
			// already gone
		}
	}

	/** Reads the conversation's state as the client's first message. */
	@FunctionalInterface
	interface StateSource {

		String read(String userId, String conversationId);

	}

}
