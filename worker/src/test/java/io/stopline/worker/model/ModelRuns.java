package io.stopline.worker.model;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.stopline.protocol.StartRun;
import io.stopline.testing.FakeUpstream;
import io.stopline.testing.FakeUpstream.Behaviour;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Runs a model as the worker does, on a virtual thread of its own that a stop interrupts,
 * and checks what every upstream model owes a stop and a pause, whatever its client.
 */
final class ModelRuns {

	static final Duration BOUND = Duration.ofSeconds(10);

	/**
	 * The answer a pause test holds back: more than the kernel can buffer on loopback
	 * (here {@code tcp_rmem} max 32 MB, {@code tcp_wmem} max 4 MB; ~110 bytes a token),
	 * so that only a client that stops reading passes.
	 */
	static final int PAUSE_TOKENS = 400_000;

	private ModelRuns() {
	}

	/**
	 * A run: its thread, the tokens it produced, when the model said its upstream was
	 * closed, and its end (null when it completed).
	 */
	record Generation(Thread thread, BlockingQueue<String> tokens, CompletableFuture<Void> upstreamClosed,
			CompletableFuture<Throwable> outcome) {
	}

	static Generation generate(ChatModel model) {
		BlockingQueue<String> tokens = new LinkedBlockingQueue<>();
		return run(model, tokens::add, tokens);
	}

	private static Generation run(ChatModel model, ChatModel.TokenSink tokens, BlockingQueue<String> taken) {
		CompletableFuture<Void> upstreamClosed = new CompletableFuture<>();
		ChatModel.TokenSink sink = new ChatModel.TokenSink() {

			@Override
			public void accept(String token) throws InterruptedException {
				tokens.accept(token);
			}

			@Override
			public void upstreamClosed() {
				upstreamClosed.complete(null);
			}

		};
		CompletableFuture<Throwable> outcome = new CompletableFuture<>();
		Thread thread = Thread.ofVirtual().start(() -> {
			try {
				model.generate(request(), sink);
				outcome.complete(null);
			}
			catch (Throwable ex) {
				outcome.complete(ex);
			}
		});
		return new Generation(thread, taken, upstreamClosed, outcome);
	}

	/** The user's message of a run that failed. */
	static String failure(ChatModel model) throws Exception {
		Throwable outcome = generate(model).outcome().get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
		assertThat(outcome).isInstanceOf(ModelFailure.class);
		return outcome.getMessage();
	}

	static StartRun request() {
		return new StartRun("run-1", "alice", "c-1", "gpt",
				List.of(new StartRun.ChatMessage("user", "Tell me a story")), 50, "gw-1", Instant.now(), null);
	}

	/**
	 * Stops a run once it streams (or, when {@code behaviour} stalls, once the upstream
	 * went silent): the run must end interrupted and the upstream see its client's FIN.
	 * @return the milliseconds from the stop to the upstream seeing the FIN
	 */
	static double stopAndAwaitDisconnect(ChatModel model, FakeUpstream upstream, Behaviour behaviour, String label)
			throws Exception {
		upstream.behave(behaviour);
		Generation generation = generate(model);
		FakeUpstream.Exchange exchange = upstream.nextExchange(BOUND);
		assertThat(generation.tokens().poll(BOUND.toMillis(), TimeUnit.MILLISECONDS)).isNotNull();
		if (behaviour instanceof Behaviour.Stall stall) {
			await().atMost(BOUND).until(() -> generation.tokens().size() + 1 >= stall.tokens());
		}

		long stoppedAt = System.nanoTime();
		generation.thread().interrupt();
		long disconnectedAt = exchange.awaitDisconnect(BOUND);

		assertThat(disconnectedAt).as("the upstream saw its client disconnect").isPositive();
		assertThat(generation.outcome().get(BOUND.toMillis(), TimeUnit.MILLISECONDS))
			.isInstanceOf(InterruptedException.class);
		assertThat(generation.upstreamClosed()).as("the stop receipt learns the upstream closed").isDone();
		double millis = (disconnectedAt - stoppedAt) / 1e6;
		System.out.printf("[upstream %s] stop -> upstream disconnect%s: %.2f ms (%d tokens sent)%n", label,
				(behaviour instanceof Behaviour.Stall) ? " (silent upstream)" : "", millis, exchange.tokensSent());
		assertThat(millis).isLessThan(1000);
		return millis;
	}

	/**
	 * Pauses a run after five tokens of a {@code total}-token answer (its sink blocks):
	 * the upstream's writes must stall well before the end, held by TCP flow control;
	 * resumed, the run must lose nothing.
	 * @return the tokens the upstream wrote while paused
	 */
	static int pauseAndAwaitHeld(ChatModel model, FakeUpstream upstream, int total, String label) throws Exception {
		upstream.behave(new Behaviour.Stream(total, Duration.ZERO));
		CompletableFuture<Void> resume = new CompletableFuture<>();
		AtomicInteger taken = new AtomicInteger();
		Generation generation = run(model, token -> {
			if (taken.get() == 5) {
				// a paused run: the sink blocks until resumed
				resume.join();
			}
			taken.incrementAndGet();
		}, new LinkedBlockingQueue<>());
		FakeUpstream.Exchange exchange = upstream.nextExchange(BOUND);
		await().atMost(BOUND).until(() -> taken.get() == 5);

		AtomicInteger last = new AtomicInteger(-1);
		await().atMost(BOUND)
			.pollInterval(Duration.ofMillis(300))
			.until(() -> exchange.tokensSent() == last.getAndSet(exchange.tokensSent()));
		int held = exchange.tokensSent();
		System.out.printf("[upstream %s] paused: the upstream's writes stalled at %d of %d tokens%n", label, held,
				total);
		assertThat(held).isLessThan(total);
		assertThat(exchange.awaitServerDone(Duration.ofMillis(500))).isFalse();

		resume.complete(null);
		assertThat(generation.outcome().get(120, TimeUnit.SECONDS)).isNull();
		assertThat(taken.get()).isEqualTo(total + 1);
		return held;
	}

}
