package io.stopline.gateway.stream;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
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

	private final WebSocketSession session;

	private final String userId;

	private final String conversationId;

	private final BlockingQueue<String> queue;

	private volatile boolean overflowed;

	private volatile @Nullable Thread sender;

	private final Instant expires;

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
			while (session.isOpen()) {
				String next = queue.poll(untilExpiry(), TimeUnit.MILLISECONDS);
				if (next == null) {
					if (!Instant.now().isBefore(expires)) {
						session.close(EXPIRED);
						return;
					}
					continue;
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
	}

	/** How long to wait for the next event before looking at the token's expiry. */
	private long untilExpiry() {
		Instant now = Instant.now();
		Instant check = now.plus(Duration.ofMinutes(10));
		return Math.max(0, Duration.between(now, expires.isBefore(check) ? expires : check).toMillis());
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
