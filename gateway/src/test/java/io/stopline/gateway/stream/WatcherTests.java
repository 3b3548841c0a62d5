package io.stopline.gateway.stream;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.BDDMockito.willAnswer;
import static org.mockito.BDDMockito.given;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.timeout;

/**
 * A watcher's buffer: the state goes first, events follow in order, and a client that
 * falls {@code capacity} events behind is disconnected with 1013 instead of slowing the
 * Redis listener or growing without bound.
 */
class WatcherTests {

	private static final Duration BOUND = Duration.ofSeconds(5);

	@Test
	void sendsTheStateFirstThenTheEventsInOrder() throws Exception {
		WebSocketSession session = mock(WebSocketSession.class);
		given(session.isOpen()).willReturn(true);
		List<String> sent = new CopyOnWriteArrayList<>();
		willAnswer(call -> sent.add(((TextMessage) call.getArgument(0)).getPayload())).given(session)
			.sendMessage(any());
		Watcher watcher = new Watcher(session, "alice", "c-1", 16, java.time.Instant.MAX);
		CompletableFuture<Void> subscribed = new CompletableFuture<>();
		Thread sender = Thread.ofVirtual().start(() -> watcher.run(subscribed, (user, conversation) -> "state"));

		watcher.offer("e1");
		watcher.offer("e2");
		subscribed.complete(null);
		await().atMost(BOUND).until(() -> sent.size() == 3);
		watcher.resync();
		await().atMost(BOUND).until(() -> sent.size() == 4);

		assertThat(sent).containsExactly("state", "e1", "e2", "state");
		watcher.stop();
		assertThat(sender.join(BOUND)).isTrue();
	}

	@Test
	void theSocketClosesWhenItsTokenExpires() throws Exception {
		WebSocketSession session = mock(WebSocketSession.class);
		given(session.isOpen()).willReturn(true);
		Watcher watcher = new Watcher(session, "alice", "c-1", 8, java.time.Instant.now().plusMillis(300));
		Thread.ofVirtual().start(() -> watcher.run(CompletableFuture.completedFuture(null), (u, c) -> "state"));

		verify(session, timeout(BOUND.toMillis())).close(Watcher.EXPIRED);
		assertThat(Watcher.EXPIRED.getCode()).isEqualTo(1008);
	}

	@Test
	void aClientTooFarBehindIsDisconnectedWithTryAgainLater() throws Exception {
		WebSocketSession session = mock(WebSocketSession.class);
		given(session.isOpen()).willReturn(true);
		CountDownLatch stuck = new CountDownLatch(1);
		// the client reads nothing: every send blocks until released
		willAnswer(call -> stuck.await(BOUND.toMillis(), TimeUnit.MILLISECONDS)).given(session).sendMessage(any());
		Watcher watcher = new Watcher(session, "alice", "c-1", 8, java.time.Instant.MAX);
		Thread.ofVirtual().start(() -> watcher.run(CompletableFuture.completedFuture(null), (u, c) -> "state"));

		long started = System.nanoTime();
		for (int i = 0; i < 1000; i++) {
			watcher.offer("event-" + i);
		}
		long offering = System.nanoTime() - started;
		stuck.countDown();

		verify(session, timeout(BOUND.toMillis())).close(Watcher.TOO_SLOW);
		assertThat(Duration.ofNanos(offering)).as("the listener never waits for a slow client")
			.isLessThan(Duration.ofSeconds(1));
		assertThat(Watcher.TOO_SLOW.getCode()).isEqualTo(1013);
		assertThat(CloseStatus.POLICY_VIOLATION.getCode()).isEqualTo(1008);
	}

}
