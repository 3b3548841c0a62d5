package io.stopline.worker.model;

import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.stopline.testing.FakeUpstream;
import io.stopline.testing.FakeUpstream.Behaviour;
import io.stopline.testing.FakeUpstream.Protocol;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.json.JsonMapper;

import static io.stopline.worker.model.ModelRuns.BOUND;
import static io.stopline.worker.model.ModelRuns.failure;
import static io.stopline.worker.model.ModelRuns.generate;
import static io.stopline.worker.model.ModelRuns.request;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every provider through Spring AI against a fake upstream that speaks its wire protocol:
 * streaming, a stop (the upstream must see its client go, even while it is silent), a
 * pause (the upstream must be held back), tool calls and every way an upstream can fail.
 */
class SpringAiModelTests {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	@ParameterizedTest
	@EnumSource(Protocol.class)
	void streamsTheUpstreamsTokensAndSendsTheRequest(Protocol protocol) throws Exception {
		try (FakeUpstream upstream = FakeUpstream.start(protocol)) {
			upstream.behave(new Behaviour.Stream(5, Duration.ofMillis(1)));
			ModelRuns.Generation generation = generate(model(protocol, upstream, Duration.ofSeconds(5)));

			assertThat(generation.outcome().get(BOUND.toMillis(), TimeUnit.MILLISECONDS)).isNull();
			assertThat(generation.tokens()).containsExactly("t0", " t1", " t2", " t3", " t4", "!");
			String request = upstream.nextExchange(BOUND).request();
			assertThat(request).startsWith("POST " + path(protocol) + " HTTP/1.1")
				.contains("test-model")
				.contains("Tell me a story")
				.doesNotContainIgnoringCase(UpstreamCalls.HEADER);
			if (protocol != Protocol.OLLAMA) {
				assertThat(request).containsIgnoringCase("test-key").contains("\"max_tokens\":50");
			}
		}
	}

	@ParameterizedTest
	@EnumSource(Protocol.class)
	void aStopClosesTheUpstreamConnectionAtOnce(Protocol protocol) throws Exception {
		try (FakeUpstream upstream = FakeUpstream.start(protocol)) {
			ModelRuns.stopAndAwaitDisconnect(model(protocol, upstream, Duration.ofSeconds(5)), upstream,
					new Behaviour.Stream(-1, Duration.ofMillis(20)), protocol.name());
		}
	}

	@ParameterizedTest
	@EnumSource(Protocol.class)
	void aStopClosesASilentUpstreamConnection(Protocol protocol) throws Exception {
		try (FakeUpstream upstream = FakeUpstream.start(protocol)) {
			ModelRuns.stopAndAwaitDisconnect(model(protocol, upstream, Duration.ofSeconds(30)), upstream,
					new Behaviour.Stall(2), protocol.name());
		}
	}

	// Spring AI's OpenAI stream (Flux.create over the SDK's pushed stream) reads ahead of
	// demand: the fake upstream wrote all 100000 tokens while the run was paused. Agents
	// on openai use the hand-written client, which holds (OpenAiCompatibleModelTests).
	@ParameterizedTest
	@EnumSource(value = Protocol.class, names = "OPENAI", mode = EnumSource.Mode.EXCLUDE)
	void aPauseHoldsTheUpstreamBackAndLosesNothing(Protocol protocol) throws Exception {
		try (FakeUpstream upstream = FakeUpstream.start(protocol)) {
			ModelRuns.pauseAndAwaitHeld(model(protocol, upstream, Duration.ofSeconds(30)), upstream,
					ModelRuns.PAUSE_TOKENS, protocol.name());
		}
	}

	@ParameterizedTest
	@EnumSource(Protocol.class)
	void offersToolsAndReturnsTheCallsTheModelAsksFor(Protocol protocol) throws Exception {
		try (FakeUpstream upstream = FakeUpstream.start(protocol)) {
			ChatModel model = model(protocol, upstream, Duration.ofSeconds(5));
			ToolDefinition tool = new ToolDefinition("files__read", "Reads a file",
					Map.of("type", "object", "properties", Map.of("path", Map.of("type", "string"))));
			upstream.behave(new Behaviour.ToolCall("files__read", "{\"path\":\"a.txt\"}"));
			List<String> tokens = new ArrayList<>();

			List<ToolRequest> calls = model.respond(request(), List.of(tool), List.of(), tokens::add);

			assertThat(tokens).containsExactly("t0");
			assertThat(calls).hasSize(1);
			assertThat(calls.getFirst().name()).isEqualTo("files__read");
			assertThat(JSON.readTree(calls.getFirst().arguments())).isEqualTo(JSON.readTree("{\"path\":\"a.txt\"}"));
			assertThat(upstream.nextExchange(BOUND).request()).contains("files__read").contains("Reads a file");

			upstream.behave(new Behaviour.Stream(2, Duration.ZERO));
			tokens.clear();
			assertThat(model.respond(request(), List.of(tool),
					List.of(new ToolRound(calls, List.of("the contents of a.txt"))), tokens::add))
				.isEmpty();
			assertThat(tokens).containsExactly("t0", " t1", "!");
			// the history carries the call (by its name) and its result
			assertThat(upstream.nextExchange(BOUND).request()).contains("the contents of a.txt")
				.contains("files__read");
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

	@ParameterizedTest
	@EnumSource(Protocol.class)
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
	void aStallLongerThanTheReadTimeoutFailsAndClosesTheConnection(Protocol protocol) throws Exception {
		try (FakeUpstream upstream = FakeUpstream.start(protocol)) {
			upstream.behave(new Behaviour.Stall(2));
			long started = System.nanoTime();
			assertThat(failure(model(protocol, upstream, Duration.ofMillis(300))))
				.startsWith("The model provider stalled: nothing arrived for");
			assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(BOUND);
			assertThat(upstream.nextExchange(BOUND).awaitDisconnect(BOUND)).as("connection closed").isPositive();
		}
	}

	private static String path(Protocol protocol) {
		return switch (protocol) {
			case OPENAI -> "/v1/chat/completions";
			case OLLAMA -> "/api/chat";
			case ANTHROPIC -> "/v1/messages";
		};
	}

	static ChatModel model(Protocol protocol, FakeUpstream upstream, Duration readTimeout) {
		String base = (protocol == Protocol.OPENAI) ? upstream.baseUrl() : upstream.origin();
		return SpringAiModels.of(config(protocol, base, readTimeout));
	}

	private static ModelProperties.Upstream config(Protocol protocol, String baseUrl, Duration readTimeout) {
		return new ModelProperties.Upstream(ModelProperties.Provider.valueOf(protocol.name()), URI.create(baseUrl),
				"test-key", "test-model", Duration.ofSeconds(2), readTimeout);
	}

}
