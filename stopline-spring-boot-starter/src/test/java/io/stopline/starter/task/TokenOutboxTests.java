package io.stopline.starter.task;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.stopline.protocol.RunEvent.TokenGenerated;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The framing rules, with a publisher the test completes by hand (the Redis side of a
 * frame is tested end to end by the stream and race integration tests).
 */
class TokenOutboxTests {

	private static final Duration BOUND = Duration.ofSeconds(5);

	private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();

	/** Frames handed to the publisher, each with the future that says Redis took it. */
	private final BlockingQueue<Sent> published = new LinkedBlockingQueue<>();

	private record Sent(TokenGenerated frame, CompletableFuture<Void> taken) {
	}

	private TokenOutbox outbox(Duration linger, int maxChars) {
		return new TokenOutbox("r-1", "c-1", (frame, urgent) -> {
			CompletableFuture<Void> taken = new CompletableFuture<>();
			published.add(new Sent(frame, taken));
			return taken;
		}, timers, linger, maxChars, error -> {
		});
	}

	@AfterEach
	void stopTimers() {
		timers.shutdownNow();
	}

	@Test
	void theFirstTokenLeavesAtOnceAndTheNextOnesWaitForTheFrameInFlight() throws Exception {
		TokenOutbox outbox = outbox(Duration.ZERO, 4096);

		outbox.append("a", 0);
		Sent first = published.poll(5, TimeUnit.SECONDS);
		assertThat(first.frame().index()).isZero();
		assertThat(first.frame().text()).isEqualTo("a");
		outbox.append("b", 1);
		outbox.append("c", 2);
		assertThat(published.poll(100, TimeUnit.MILLISECONDS)).as("one frame in flight at most").isNull();

		first.taken().complete(null);
		Sent second = published.poll(5, TimeUnit.SECONDS);
		assertThat(second.frame().index()).isEqualTo(1);
		assertThat(second.frame().count()).isEqualTo(2);
		assertThat(second.frame().text()).isEqualTo("bc");
		assertThat(second.frame().next()).isEqualTo(3);
	}

	@Test
	void aTokenWaitsAtMostTheLingerForOthersToJoinItsFrame() throws Exception {
		TokenOutbox outbox = outbox(Duration.ofMillis(50), 4096);
		outbox.append("a", 0);
		published.poll(5, TimeUnit.SECONDS).taken().complete(null);

		long appended = System.nanoTime();
		outbox.append("b", 1);
		outbox.append("c", 2);
		Sent frame = published.poll(5, TimeUnit.SECONDS);
		long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - appended);

		assertThat(frame.frame().text()).isEqualTo("bc");
		assertThat(waited).as("held for the linger, not longer than a bound").isBetween(30L, 2000L);
	}

	@Test
	void aFullFrameLeavesWithoutWaitingForTheLinger() throws Exception {
		TokenOutbox outbox = outbox(Duration.ofHours(1), 4);
		outbox.append("a", 0);
		published.poll(5, TimeUnit.SECONDS).taken().complete(null);

		outbox.append("bb", 1);
		outbox.append("cc", 2);

		assertThat(published.poll(5, TimeUnit.SECONDS).frame().text()).isEqualTo("bbcc");
	}

	@Test
	void drainSendsWhatIsPendingAndReturnsOnceRedisTookEveryFrame() throws Exception {
		TokenOutbox outbox = outbox(Duration.ofHours(1), 4096);
		outbox.append("a", 0);
		Sent first = published.poll(5, TimeUnit.SECONDS);
		outbox.append("b", 1);
		CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> outbox.drain(BOUND));

		assertThat(published.poll(100, TimeUnit.MILLISECONDS)).isNull();
		first.taken().complete(null);
		Sent second = published.poll(5, TimeUnit.SECONDS);
		assertThat(second.frame().text()).isEqualTo("b");
		assertThat(drained).isNotDone();
		second.taken().complete(null);

		assertThat(drained.get(5, TimeUnit.SECONDS)).isTrue();
	}

	@Test
	void aStopDropsTheTokensNobodySawAndReportsExactlyWhatWasSent() throws Exception {
		TokenOutbox outbox = outbox(Duration.ofHours(1), 4096);
		outbox.append("Hello", 0);
		Sent first = published.poll(5, TimeUnit.SECONDS);
		outbox.append(" world", 1);
		first.taken().complete(null);

		TokenOutbox.Sent sent = outbox.discardPending(BOUND);

		assertThat(sent.tokens()).isEqualTo(1);
		assertThat(sent.chars()).isEqualTo("Hello".length());
		assertThat(published.poll(100, TimeUnit.MILLISECONDS)).as("nothing leaves after the stop").isNull();
	}

	@Test
	void framesHoldBackUntilTheStartIsAnnounced() throws Exception {
		TokenOutbox outbox = outbox(Duration.ZERO, 4096);
		CompletableFuture<Void> announcement = new CompletableFuture<>();
		outbox.after(announcement);

		outbox.append("a", 0);
		assertThat(published.poll(100, TimeUnit.MILLISECONDS)).isNull();
		announcement.complete(null);

		assertThat(published.poll(5, TimeUnit.SECONDS).frame().text()).isEqualTo("a");
	}

	@Test
	void indexesAreContinuousAcrossFramesWhateverTheTiming() throws Exception {
		TokenOutbox outbox = outbox(Duration.ofMillis(1), 16);
		Thread completer = Thread.ofVirtual().start(() -> {
			try {
				while (true) {
					Sent sent = published.take();
					frames.add(sent.frame());
					sent.taken()
						.completeAsync(() -> null, CompletableFuture.delayedExecutor(100, TimeUnit.MICROSECONDS));
				}
			}
			catch (InterruptedException ex) {
				// done
			}
		});
		StringBuilder expected = new StringBuilder();
		for (int i = 0; i < 2000; i++) {
			String token = " t" + i;
			expected.append(token);
			outbox.append(token, i);
			if (i % 97 == 0) {
				// pace the producer now and then, so frames of every size occur
				java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
			}
		}
		assertThat(outbox.drain(BOUND)).isTrue();
		completer.interrupt();
		completer.join();

		int next = 0;
		StringBuilder text = new StringBuilder();
		for (TokenGenerated frame : frames) {
			assertThat(frame.index()).as("each frame starts where the previous one ended").isEqualTo(next);
			next = frame.next();
			text.append(frame.text());
		}
		assertThat(next).isEqualTo(2000);
		assertThat(text.toString()).isEqualTo(expected.toString());
		assertThat(frames.size()).as("fewer frames than tokens").isLessThan(2000);
	}

	private final List<TokenGenerated> frames = java.util.Collections.synchronizedList(new ArrayList<>());

}
