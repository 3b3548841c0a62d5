package io.stopline.gateway.chat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.stopline.core.run.RunRecord;
import io.stopline.protocol.RunEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gateway-wide recovery tick: a stream that hears nothing has its run checked (on the
 * tick, not by a timed wait of its own), and a stream that hears its events is never
 * checked.
 */
class StreamRecoveryTests {

	private static final Duration BOUND = Duration.ofSeconds(5);

	private final StreamRecovery recovery = new StreamRecovery();

	private final RunRecord run = RunRecord.queued("r-1", "alice", "c-1", "assistant", "g-1", Instant.now());

	@AfterEach
	void close() {
		recovery.close();
	}

	@Test
	void aSilentStreamGetsTheEndItsGatewayMissedFromTheCheck() throws Exception {
		ChatSession session = new ChatSession(run, new LinkedBlockingQueue<>(), () -> {
		});
		AtomicInteger checks = new AtomicInteger();
		RunEvent lost = new RunEvent.RunCompleted("r-1", "c-1", "the answer", 2, Instant.now());

		CompletableFuture<RunEvent> next = CompletableFuture.supplyAsync(() -> {
			try {
				return recovery.next(session, checked -> {
					// still running at the first check, ended at the second
					return checks.incrementAndGet() == 1 ? Optional.empty() : Optional.of(lost);
				});
			}
			catch (InterruptedException ex) {
				throw new IllegalStateException(ex);
			}
		});

		assertThat(next.get(BOUND.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo(lost);
		assertThat(checks).hasValue(2);
	}

	@Test
	void aStreamThatHearsItsEventsIsNotChecked() throws Exception {
		LinkedBlockingQueue<RunEvent> events = new LinkedBlockingQueue<>();
		ChatSession session = new ChatSession(run, events, () -> {
		});
		AtomicInteger checks = new AtomicInteger();
		StreamRecovery.Check counting = checked -> {
			checks.incrementAndGet();
			return Optional.empty();
		};
		long until = System.nanoTime() + StreamRecovery.IDLE.multipliedBy(2).toNanos();
		int index = 0;
		while (System.nanoTime() < until) {
			RunEvent.TokenGenerated token = new RunEvent.TokenGenerated("r-1", "c-1", index++, "x", 1, Instant.now());
			CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS).execute(() -> events.add(token));
			assertThat(recovery.next(session, counting)).isEqualTo(token);
		}
		RunEvent end = new RunEvent.RunCompleted("r-1", "c-1", "x", index, Instant.now());
		events.add(end);

		assertThat(recovery.next(session, counting)).isEqualTo(end);
		assertThat(checks).hasValue(0);
	}

}
