package io.stopline.worker.model;

import java.net.ServerSocket;
import java.net.URI;
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
import io.stopline.testing.FakeUpstream.Protocol;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every provider through Spring AI against a fake upstream that speaks its wire protocol:
 * streaming, a stop (the upstream must see its client go), a pause (the upstream must be
 * held back) and every way an upstream can fail.
 */
class SpringAiModelTests {

	private static final Duration BOUND = Duration.ofSeconds(10);

	@ParameterizedTest
	@EnumSource(Protocol.class)
	void streamsTheUpstreamsTokensAndSendsTheRequest(Protocol protocol) throws Exception {
		try (FakeUpstream upstream = FakeUpstream.start(protocol)) {
			upstream.behave(new Behaviour.Stream(5, Duration.ofMillis(1)));
			Generation generation = generate(model(protocol, upstream, Duration.ofSeconds(5)));

			assertThat(generation.outcome().get(BOUND.toMillis(), TimeUnit.MILLISECONDS)).isNull();
			assertThat(generation.tokens()).containsExactly("t0", " t1", " t2", " t3", " t4", "!");
			String request = upstream.nextExchange(BOUND).request();
			assertThat(request).startsWith("POST " + path(protocol) + " HTTP/1.1")
				.contains("test-model")
				.contains("Tell me a story");
			if (protocol != Protocol.OLLAMA) {
				assertThat(request).containsIgnoringCase("test-key").contains("\"max_tokens\":50");
			}
		}
	}

	@ParameterizedTest
	@EnumSource(Protocol.class)
	void aStopClosesTheUpstreamConnectionAtOnce(Protocol protocol) throws Exception {
		try (FakeUpstream upstream = FakeUpstream.start(protocol)) {
			upstream.behave(new Behaviour.Stream(-1, Duration.ofMillis(20)));
			Generation generation = generate(model(protocol, upstream, Duration.ofSeconds(5)));
			FakeUpstream.Exchange exchange = upstream.nextExchange(BOUND);
			assertThat(generation.tokens().poll(BOUND.toMillis(), TimeUnit.MILLISECONDS)).isNotNull();

			long stoppedAt = System.nanoTime();
			generation.thread().interrupt();
			long disconnectedAt = exchange.awaitDisconnect(BOUND);

			assertThat(disconnectedAt).as("the upstream saw its client disconnect").isPositive();
			assertThat(generation.outcome().get(BOUND.toMillis(), TimeUnit.MILLISECONDS))
				.isInstanceOf(InterruptedException.class);
			double millis = (disconnectedAt - stoppedAt) / 1e6;
			System.out.printf("[upstream %s] stop -> upstream disconnect: %.2f ms (%d tokens sent)%n", protocol, millis,
					exchange.tokensSent());
			assertThat(millis).isLessThan(1000);
		}
	}

	// Known gap, measured: Spring AI's Ollama stream and its OpenAI stream (Flux.create,
	// buffering) read ahead of demand; the fake upstream wrote all 100000 tokens while
	// the run was paused (OpenAI: once held at 25267, once not). Only Anthropic holds.
	@ParameterizedTest
	@EnumSource(value = Protocol.class, names = "ANTHROPIC")
	void aPauseHoldsTheUpstreamBackAndLosesNothing(Protocol protocol) throws Exception {
		int total = 100_000;
		try (FakeUpstream upstream = FakeUpstream.start(protocol)) {
			upstream.behave(new Behaviour.Stream(total, Duration.ZERO));
			CompletableFuture<Void> resume = new CompletableFuture<>();
			AtomicInteger taken = new AtomicInteger();
			CompletableFuture<Throwable> outcome = run(model(protocol, upstream, Duration.ofSeconds(30)), token -> {
				if (taken.get() == 5) {
					// a paused run: the sink blocks until resumed
					resume.join();
				}
				taken.incrementAndGet();
			});
			FakeUpstream.Exchange exchange = upstream.nextExchange(BOUND);
			await().atMost(BOUND).until(() -> taken.get() == 5);

			// held back: the upstream's writes stall well before the end of the answer
			AtomicInteger last = new AtomicInteger(-1);
			await().atMost(BOUND)
				.pollInterval(Duration.ofMillis(300))
				.until(() -> exchange.tokensSent() == last.getAndSet(exchange.tokensSent()));
			int held = exchange.tokensSent();
			System.out.printf("[upstream %s] paused: the upstream's writes stalled at %d of %d tokens%n", protocol,
					held, total);
			assertThat(held).isLessThan(total);
			assertThat(exchange.awaitServerDone(Duration.ofMillis(500))).isFalse();

			resume.complete(null);
			assertThat(outcome.get(60, TimeUnit.SECONDS)).isNull();
			assertThat(taken.get()).isEqualTo(total + 1);
		}
	}

	@ParameterizedTest
	@EnumSource(Protocol.class)
	void aConnectionRefusedFailsWithAClearMessage(Protocol protocol) throws Exception {
		int closedPort;
		try (ServerSocket socket = new ServerSocket(0)) {
			closedPort = socket.getLocalPort();
		}
		ModelProperties.Upstream config = config(protocol, "http://127.0.0.1:" + closedPort, Duration.ofSeconds(5));
		assertThat(failure(SpringAiModels.of(config))).isEqualTo("The model provider could not be reached.");
	}

	@ParameterizedTest
	@EnumSource(Protocol.class)
	void anErrorStatusFailsWithTheStatus(Protocol protocol) throws Exception {
		try (FakeUpstream upstream = FakeUpstream.start(protocol)) {
			upstream.behave(new Behaviour.Status(401, "{\"error\":{\"message\":\"Invalid API key\"}}"));
			assertThat(failure(model(protocol, upstream, Duration.ofSeconds(5))))
				.isEqualTo("The model provider answered HTTP 401.");
			upstream.behave(new Behaviour.Status(503, "overloaded"));
			assertThat(failure(model(protocol, upstream, Duration.ofSeconds(5))))
				.isEqualTo("The model provider answered HTTP 503.");
		}
	}

	// Ollama: a broken NDJSON line stays unparsed until more bytes come, so it ends as
	// a stall instead (known gap)
	@ParameterizedTest
	@EnumSource(value = Protocol.class, names = "OLLAMA", mode = EnumSource.Mode.EXCLUDE)
	void aMalformedStreamFails(Protocol protocol) throws Exception {
		try (FakeUpstream upstream = FakeUpstream.start(protocol)) {
			upstream.behave(new Behaviour.Malformed());
			assertThat(failure(model(protocol, upstream, Duration.ofSeconds(5))))
				.isEqualTo("The model provider sent a malformed stream.");
			assertThat(upstream.nextExchange(BOUND).awaitDisconnect(BOUND)).as("connection closed").isPositive();
		}
	}

	@ParameterizedTest
	@EnumSource(Protocol.class)
	void aTruncatedStreamFails(Protocol protocol) throws Exception {
		try (FakeUpstream upstream = FakeUpstream.start(protocol)) {
			upstream.behave(new Behaviour.Truncated(3));
			assertThat(failure(model(protocol, upstream, Duration.ofSeconds(5))))
				.isEqualTo("The model provider's stream ended before the answer was complete.");
		}
	}

	@ParameterizedTest
	@EnumSource(Protocol.class)
	void aStallLongerThanTheReadTimeoutFails(Protocol protocol) throws Exception {
		try (FakeUpstream upstream = FakeUpstream.start(protocol)) {
			upstream.behave(new Behaviour.Stall(2));
			long started = System.nanoTime();
			assertThat(failure(model(protocol, upstream, Duration.ofMillis(300))))
				.startsWith("The model provider stalled: nothing arrived for");
			assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(BOUND);
			// known gap: the connection of a stalled stream is not reliably closed within
			// 10 s (OpenAI, Anthropic: their cancel waits for a reader blocked on the
			// stalled socket; Ollama: closed in one run out of two)
		}
	}

	private static String path(Protocol protocol) {
		return switch (protocol) {
			case OPENAI -> "/v1/chat/completions";
			case OLLAMA -> "/api/chat";
			case ANTHROPIC -> "/v1/messages";
		};
	}

	private static String failure(ChatModel model) throws Exception {
		Throwable outcome = generate(model).outcome().get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
		assertThat(outcome).isInstanceOf(ModelFailure.class);
		return outcome.getMessage();
	}

	private record Generation(Thread thread, BlockingQueue<String> tokens, CompletableFuture<Throwable> outcome) {
	}

	private static Generation generate(ChatModel model) {
		BlockingQueue<String> tokens = new LinkedBlockingQueue<>();
		CompletableFuture<Throwable> outcome = new CompletableFuture<>();
		Thread thread = Thread.ofVirtual().start(() -> {
			try {
				model.generate(request(), tokens::add);
				outcome.complete(null);
			}
			catch (Throwable ex) {
				outcome.complete(ex);
			}
		});
		return new Generation(thread, tokens, outcome);
	}

	private static CompletableFuture<Throwable> run(ChatModel model, ChatModel.TokenSink sink) {
		CompletableFuture<Throwable> outcome = new CompletableFuture<>();
		Thread.ofVirtual().start(() -> {
			try {
				model.generate(request(), sink);
				outcome.complete(null);
			}
			catch (Throwable ex) {
				outcome.complete(ex);
			}
		});
		return outcome;
	}

	static ChatModel model(Protocol protocol, FakeUpstream upstream, Duration readTimeout) {
		String base = (protocol == Protocol.OPENAI) ? upstream.baseUrl() : upstream.origin();
		return SpringAiModels.of(config(protocol, base, readTimeout));
	}

	private static ModelProperties.Upstream config(Protocol protocol, String baseUrl, Duration readTimeout) {
		return new ModelProperties.Upstream(ModelProperties.Provider.valueOf(protocol.name()), URI.create(baseUrl),
				"test-key", "test-model", Duration.ofSeconds(2), readTimeout);
	}

	static StartRun request() {
		return new StartRun("run-1", "alice", "c-1", "gpt",
				List.of(new StartRun.ChatMessage("user", "Tell me a story")), 50, "gw-1", Instant.now(), null);
	}

}
