package io.stopline.worker.model;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.stopline.testing.FakeUpstream;
import io.stopline.testing.FakeUpstream.Behaviour;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.stopline.worker.model.ModelRuns.BOUND;
import static io.stopline.worker.model.ModelRuns.failure;
import static io.stopline.worker.model.ModelRuns.generate;
import static io.stopline.worker.model.ModelRuns.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The OpenAI-compatible model against a real socket server: streaming, cancellation (the
 * upstream must see its client go) and every way an upstream can fail.
 */
class OpenAiCompatibleModelTests {

	private final FakeUpstream upstream = FakeUpstream.start();

	@AfterEach
	void close() {
		upstream.close();
	}

	@Test
	void streamsTheUpstreamsTokensAndSendsTheRequest() throws Exception {
		upstream.behave(new Behaviour.Stream(5, Duration.ofMillis(1)));
		ModelRuns.Generation generation = generate(model(upstream.baseUrl(), Duration.ofSeconds(5)));

		assertThat(generation.outcome().get(BOUND.toMillis(), TimeUnit.MILLISECONDS)).isNull();
		assertThat(generation.tokens()).containsExactly("t0", " t1", " t2", " t3", " t4", "!");
		String request = upstream.nextExchange(BOUND).request();
		assertThat(request).startsWith("POST /v1/chat/completions HTTP/1.1")
			.contains("Authorization: Bearer test-key")
			.contains("\"model\":\"test-model\"")
			.contains("\"stream\":true")
			.contains("\"max_tokens\":50")
			.contains("\"content\":\"Tell me a story\"");
	}

	@Test
	void aStopClosesTheUpstreamConnectionAtOnce() throws Exception {
		ModelRuns.stopAndAwaitDisconnect(model(upstream.baseUrl(), Duration.ofSeconds(5)), upstream,
				new Behaviour.Stream(-1, Duration.ofMillis(20)), "OPENAI hand-written");
	}

	@Test
	void aStopClosesASilentUpstreamConnection() throws Exception {
		ModelRuns.stopAndAwaitDisconnect(model(upstream.baseUrl(), Duration.ofSeconds(30)), upstream,
				new Behaviour.Stall(2), "OPENAI hand-written");
	}

	@Test
	void aPauseHoldsTheUpstreamBackAndLosesNothing() throws Exception {
		ModelRuns.pauseAndAwaitHeld(model(upstream.baseUrl(), Duration.ofSeconds(30)), upstream, ModelRuns.PAUSE_TOKENS,
				"OPENAI hand-written");
	}

	@Test
	void aConnectionRefusedFailsWithAClearMessage() throws Exception {
		int closedPort;
		try (ServerSocket socket = new ServerSocket(0)) {
			closedPort = socket.getLocalPort();
		}
		assertThat(failure(model("http://127.0.0.1:" + closedPort + "/v1", Duration.ofSeconds(5))))
			.isEqualTo("The model provider could not be reached.");
	}

	@Test
	void anErrorStatusFailsWithTheStatus() throws Exception {
		upstream.behave(new Behaviour.Status(401, "{\"error\":{\"message\":\"Invalid API key\"}}"));
		assertThat(failure(model(upstream.baseUrl(), Duration.ofSeconds(5))))
			.isEqualTo("The model provider answered HTTP 401.");
		upstream.behave(new Behaviour.Status(503, "overloaded"));
		assertThat(failure(model(upstream.baseUrl(), Duration.ofSeconds(5))))
			.isEqualTo("The model provider answered HTTP 503.");
	}

	@Test
	void aMalformedStreamFails() throws Exception {
		upstream.behave(new Behaviour.Malformed());
		assertThat(failure(model(upstream.baseUrl(), Duration.ofSeconds(5))))
			.isEqualTo("The model provider sent a malformed stream.");
		assertThat(upstream.nextExchange(BOUND).awaitDisconnect(BOUND)).as("connection closed").isPositive();
	}

	@Test
	void aTruncatedStreamFails() throws Exception {
		upstream.behave(new Behaviour.Truncated(3));
		assertThat(failure(model(upstream.baseUrl(), Duration.ofSeconds(5))))
			.isEqualTo("The model provider's stream ended before the answer was complete.");
	}

	@Test
	void aStallLongerThanTheReadTimeoutFails() throws Exception {
		upstream.behave(new Behaviour.Stall(2));
		long started = System.nanoTime();
		assertThat(failure(model(upstream.baseUrl(), Duration.ofMillis(300))))
			.startsWith("The model provider stalled: nothing arrived for");
		assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(BOUND);
		assertThat(upstream.nextExchange(BOUND).awaitDisconnect(BOUND)).as("connection closed").isPositive();
	}

	@Test
	void aSinkThatBlocksStopsTheReadingAndLosesNothing() throws Exception {
		upstream.behave(new Behaviour.Stream(40, Duration.ofMillis(2)));
		CompletableFuture<Void> resume = new CompletableFuture<>();
		BlockingQueue<String> tokens = new LinkedBlockingQueue<>();
		OpenAiCompatibleModel model = model(upstream.baseUrl(), Duration.ofSeconds(5));
		CompletableFuture<Throwable> outcome = new CompletableFuture<>();
		Thread.ofVirtual().start(() -> {
			try {
				model.generate(request(), token -> {
					if (tokens.size() == 5) {
						// a paused run: the sink blocks until resumed
						resume.join();
					}
					tokens.add(token);
				});
				outcome.complete(null);
			}
			catch (Throwable ex) {
				outcome.complete(ex);
			}
		});
		await().atMost(BOUND).until(() -> tokens.size() == 5);
		FakeUpstream.Exchange exchange = upstream.nextExchange(BOUND);
		resume.complete(null);

		assertThat(outcome.get(BOUND.toMillis(), TimeUnit.MILLISECONDS)).isNull();
		assertThat(tokens).hasSize(41).startsWith("t0", " t1").endsWith(" t39", "!");
		assertThat(exchange.tokensSent()).isEqualTo(40);
	}

	private static OpenAiCompatibleModel model(String baseUrl, Duration readTimeout) {
		ModelProperties.Upstream config = new ModelProperties.Upstream(ModelProperties.Provider.OPENAI,
				URI.create(baseUrl), "test-key", "test-model", Duration.ofSeconds(2), readTimeout);
		return new OpenAiCompatibleModel(config,
				HttpClient.newBuilder()
					.version(HttpClient.Version.HTTP_1_1)
					.connectTimeout(Duration.ofSeconds(2))
					.build());
	}

}
