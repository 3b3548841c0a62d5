package io.stopline.gateway.chat;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.stopline.protocol.RunEvent;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;

/**
 * One recovery tick for every client stream of this gateway. A stream waits for its run's
 * next event without a time bound; the tick looks at the streams that have heard nothing
 * for {@link #IDLE} and checks each, on a virtual thread of its own, whether its run
 * ended without this gateway hearing (the check's answer joins the stream's queue). A
 * timed wait per stream cost a virtual-thread timer scheduled and cancelled at every
 * wake-up: 16 % of the gateway's CPU with 400 chats streaming.
 */
@Component
class StreamRecovery {

	private static final Logger log = LoggerFactory.getLogger(StreamRecovery.class);

	/** A stream silent for this long has its run checked (then again at every tick). */
	static final Duration IDLE = Duration.ofSeconds(1);

	private static final Duration TICK = Duration.ofMillis(250);

	/** Looks for the end of a session's run that this gateway did not hear. */
	@FunctionalInterface
	interface Check {

		Optional<RunEvent> recoverEnd(ChatSession session);

	}

	/**
	 * The sessions whose streams wait here, each with its check, until their run ends.
	 */
	private final ConcurrentMap<ChatSession, Check> sessions = new ConcurrentHashMap<>();

	private final ScheduledExecutorService ticker = Executors
		.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("stream-recovery").factory());

	private final ExecutorService checks = Executors
		.newThreadPerTaskExecutor(Thread.ofVirtual().name("stream-check-", 0).factory());

	StreamRecovery() {
		ticker.scheduleWithFixedDelay(this::tick, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
	}

	/**
	 * The session's next event, however long it takes; the tick covers a lost end. A
	 * session is registered once and leaves with its run's end (or its client): a wait
	 * costs two volatile writes, not a map update.
	 */
	RunEvent next(ChatSession session, Check check) throws InterruptedException {
		RunEvent ready = session.pollNow();
		if (ready == null) {
			if (session.track()) {
				sessions.put(session, check);
			}
			session.waitingSince(System.nanoTime());
			try {
				ready = session.take();
			}
			catch (InterruptedException ex) {
				sessions.remove(session);
				throw ex;
			}
			finally {
				session.waitingSince(0);
			}
		}
		if (ready.isTerminal()) {
			sessions.remove(session);
		}
		return ready;
	}

	private void tick() {
		long now = System.nanoTime();
		sessions.forEach((session, check) -> {
			if (session.isClosed()) {
				sessions.remove(session);
				return;
			}
			long since = session.waitingSince();
			if (since != 0 && now - since >= IDLE.toNanos() && session.beginCheck()) {
				checks.execute(() -> check(session, check));
			}
		});
	}

	private void check(ChatSession session, Check check) {
		try {
			check.recoverEnd(session).ifPresent(session::offer);
		}
		catch (RuntimeException ex) {
			// Redis unreachable: keep the client's stream open; the inbox resubscribes
			// when Redis is back, and the next tick checks again
			log.debug("run check failed for {}: {}", session.run().runId(), ex.toString());
		}
		finally {
			session.endCheck();
		}
	}

	@PreDestroy
	void close() {
		ticker.shutdownNow();
		checks.shutdownNow();
	}

}
