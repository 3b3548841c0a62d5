package io.stopline.starter.task;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.stopline.protocol.RunEvent.TokenGenerated;
import io.stopline.core.events.RunEvents.FrameOut;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The batching of frames across runs, per gateway, with a sink the test completes by
 * hand; and the run's outbox on top of it (a stop mid-batch, a drain before a pause).
 */
class FrameLanesTests {

	private static final Duration BOUND = Duration.ofSeconds(5);

	private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();

	/** Writes handed to the sink, each with the future that says Redis took it. */
	private final BlockingQueue<Write> writes = new LinkedBlockingQueue<>();

	private record Write(String gatewayId, List<FrameOut> frames, CompletableFuture<Void> taken) {

		List<String> texts() {
			return frames.stream().map(out -> out.frame().runId() + ":" + out.frame().text()).toList();
		}

	}

	private FrameLanes lanes(Duration interval) {
		return new FrameLanes((gatewayId, frames) -> {
			CompletableFuture<Void> taken = new CompletableFuture<>();
			writes.add(new Write(gatewayId, List.copyOf(frames), taken));
			return taken;
		}, timers, interval);
	}

	@AfterEach
	void stopTimers() {
		timers.shutdownNow();
	}

	@Test
	void aQuietLaneSendsAtOnceAndFramesArrivingMeanwhileLeaveTogetherInOrder() throws Exception {
		FrameLanes lanes = lanes(Duration.ZERO);

		FrameLanes.Ticket a0 = lanes.submit("g1", out("a", 0, "A0"), false);
		Write first = writes.poll(5, TimeUnit.SECONDS);
		lanes.submit("g1", out("b", 0, "B0"), false);
		lanes.submit("g1", out("c", 0, "C0"), false);
		lanes.submit("g1", out("b", 1, "B1"), false);
		assertThat(writes.poll(100, TimeUnit.MILLISECONDS)).as("one write in flight per lane").isNull();
		assertThat(a0).isNotDone();

		first.taken().complete(null);

		assertThat(a0).isDone();
		Write second = writes.poll(5, TimeUnit.SECONDS);
		assertThat(first.texts()).containsExactly("a:A0");
		assertThat(second.texts()).as("every run's frames in one write, in submission order")
			.containsExactly("b:B0", "c:C0", "b:B1");
	}

	@Test
	void lanesOfDifferentGatewaysDoNotWaitForEachOther() throws Exception {
		FrameLanes lanes = lanes(Duration.ofHours(1));

		lanes.submit("g1", out("a", 0, "A0"), false);
		lanes.submit("g2", out("b", 0, "B0"), false);

		assertThat(List.of(writes.poll(5, TimeUnit.SECONDS).gatewayId(), writes.poll(5, TimeUnit.SECONDS).gatewayId()))
			.containsExactlyInAnyOrder("g1", "g2");
	}

	@Test
	void aBusyLaneWritesAtMostOncePerIntervalUnlessAFrameIsUrgent() throws Exception {
		FrameLanes lanes = lanes(Duration.ofMillis(200));
		// timed from before the first write: the interval runs from that write, which a
		// slow poll here could otherwise have eaten into
		long started = System.nanoTime();
		lanes.submit("g1", out("a", 0, "A0"), false);
		writes.poll(5, TimeUnit.SECONDS).taken().complete(null);

		lanes.submit("g1", out("a", 1, "A1"), false);
		lanes.submit("g1", out("b", 0, "B0"), false);
		Write batched = writes.poll(5, TimeUnit.SECONDS);
		long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
		assertThat(batched.texts()).containsExactly("a:A1", "b:B0");
		assertThat(waited).as("held until the interval since the last write ran out").isBetween(190L, 4000L);
		batched.taken().complete(null);

		lanes.submit("g1", out("c", 0, "C0"), true);
		assertThat(writes.poll(100, TimeUnit.MILLISECONDS)).as("an urgent frame does not wait for the interval")
			.isNotNull();
	}

	@Test
	void aWithdrawnFrameNeverLeavesAndAWrittenOneCannotBeWithdrawn() throws Exception {
		FrameLanes lanes = lanes(Duration.ZERO);
		FrameLanes.Ticket written = lanes.submit("g1", out("a", 0, "A0"), false);
		Write first = writes.poll(5, TimeUnit.SECONDS);
		FrameLanes.Ticket waiting = lanes.submit("g1", out("b", 0, "B0"), false);
		lanes.submit("g1", out("c", 0, "C0"), false);

		assertThat(written.withdraw()).isFalse();
		assertThat(waiting.withdraw()).isTrue();
		first.taken().complete(null);

		assertThat(writes.poll(5, TimeUnit.SECONDS).texts()).containsExactly("c:C0");
	}

	@Test
	void aStopMidBatchRecordsExactlyTheFramesThatLeft() throws Exception {
		FrameLanes lanes = lanes(Duration.ZERO);
		// another run keeps the lane busy, so the stopped run's second frame waits in it
		lanes.submit("g1", out("other", 0, "x"), false);
		Write busy = writes.poll(5, TimeUnit.SECONDS);
		TokenOutbox outbox = outbox(lanes, "r", Duration.ZERO);
		outbox.append("Hello", 0);
		assertThat(writes.poll(100, TimeUnit.MILLISECONDS)).isNull();
		busy.taken().complete(null);
		Write withHello = writes.poll(5, TimeUnit.SECONDS);
		assertThat(withHello.texts()).containsExactly("r:Hello");
		withHello.taken().complete(null);
		lanes.submit("g1", out("other", 1, "y"), false);
		Write busyAgain = writes.poll(5, TimeUnit.SECONDS);
		outbox.append(" world", 1);

		TokenOutbox.Sent sent = outbox.discardPending(BOUND);
		busyAgain.taken().complete(null);

		assertThat(sent).isEqualTo(new TokenOutbox.Sent(1, "Hello".length()));
		assertThat(writes.poll(100, TimeUnit.MILLISECONDS)).as("the withdrawn frame never leaves").isNull();
	}

	@Test
	void aStopWaitsForAFrameAlreadyBeingWrittenAndCountsIt() throws Exception {
		FrameLanes lanes = lanes(Duration.ZERO);
		TokenOutbox outbox = outbox(lanes, "r");
		outbox.append("Hello", 0);
		Write inFlight = writes.poll(5, TimeUnit.SECONDS);

		CompletableFuture<TokenOutbox.Sent> stopped = CompletableFuture.supplyAsync(() -> outbox.discardPending(BOUND));
		assertThat(writes.poll(100, TimeUnit.MILLISECONDS)).isNull();
		inFlight.taken().complete(null);

		assertThat(stopped.get(5, TimeUnit.SECONDS)).isEqualTo(new TokenOutbox.Sent(1, "Hello".length()));
	}

	@Test
	void aDrainBeforeAPauseSendsAtOnceAndNothingLeavesAfterIt() throws Exception {
		FrameLanes lanes = lanes(Duration.ofHours(1));
		TokenOutbox outbox = outbox(lanes, "r");
		outbox.append("a", 0);
		writes.poll(5, TimeUnit.SECONDS).taken().complete(null);
		outbox.append("b", 1);
		assertThat(writes.poll(100, TimeUnit.MILLISECONDS)).as("held by the run's linger, then by the lane's interval")
			.isNull();

		CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> outbox.drain(BOUND));
		Write last = writes.poll(5, TimeUnit.SECONDS);
		assertThat(last).as("a drain does not wait for the lane's interval").isNotNull();
		assertThat(drained).isNotDone();
		last.taken().complete(null);

		assertThat(drained.get(5, TimeUnit.SECONDS)).isTrue();
		assertThat(last.texts()).containsExactly("r:b");
		assertThat(writes.poll(200, TimeUnit.MILLISECONDS)).as("no frame after the drain that precedes run_paused")
			.isNull();
	}

	@Test
	void manyRunsThroughOneLaneKeepEachRunsOrderAndTextAcrossBatches() throws Exception {
		FrameLanes lanes = lanes(Duration.ofMillis(1));
		List<TokenGenerated> seen = java.util.Collections.synchronizedList(new ArrayList<>());
		Thread completer = Thread.ofVirtual().start(() -> {
			try {
				while (true) {
					Write write = writes.take();
					write.frames().forEach(out -> seen.add(out.frame()));
					write.taken()
						.completeAsync(() -> null, CompletableFuture.delayedExecutor(200, TimeUnit.MICROSECONDS));
				}
			}
			catch (InterruptedException ex) {
				// done
			}
		});
		int runs = 20;
		int tokens = 300;
		List<TokenOutbox> outboxes = new ArrayList<>();
		for (int r = 0; r < runs; r++) {
			outboxes.add(outbox(lanes, "r" + r));
		}
		try (var producers = Executors.newVirtualThreadPerTaskExecutor()) {
			for (int r = 0; r < runs; r++) {
				TokenOutbox outbox = outboxes.get(r);
				producers.execute(() -> {
					for (int i = 0; i < tokens; i++) {
						outbox.append(" t" + i, i);
						if (i % 37 == 0) {
							java.util.concurrent.locks.LockSupport.parkNanos(500_000);
						}
					}
				});
			}
		}
		for (TokenOutbox outbox : outboxes) {
			assertThat(outbox.drain(BOUND)).isTrue();
		}
		completer.interrupt();
		completer.join();

		StringBuilder expected = new StringBuilder();
		for (int i = 0; i < tokens; i++) {
			expected.append(" t").append(i);
		}
		for (int r = 0; r < runs; r++) {
			String run = "r" + r;
			int next = 0;
			StringBuilder text = new StringBuilder();
			for (TokenGenerated frame : seen.stream().filter(frame -> frame.runId().equals(run)).toList()) {
				assertThat(frame.index()).as("run %s: each frame starts where the previous ended", run).isEqualTo(next);
				next = frame.next();
				text.append(frame.text());
			}
			assertThat(text.toString()).isEqualTo(expected.toString());
		}
	}

	private TokenOutbox outbox(FrameLanes lanes, String runId) {
		return outbox(lanes, runId, Duration.ofMillis(50));
	}

	private TokenOutbox outbox(FrameLanes lanes, String runId, Duration linger) {
		return new TokenOutbox(runId, "c-" + runId,
				(frame, urgent) -> lanes.submit("g1", new FrameOut("u", frame, false), urgent), timers, linger, 4096,
				error -> {
				});
	}

	private static FrameOut out(String runId, int index, String text) {
		return new FrameOut("u", new TokenGenerated(runId, "c-" + runId, index, text, Instant.now()), false);
	}

}
