package io.stopline.worker.model;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.sun.net.httpserver.HttpServer;
import io.stopline.protocol.StartRun;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OpenAI-compatible client with tools: the request offers them and carries earlier
 * rounds ({@code tool_calls}, then a {@code tool} message per result); the stream's
 * {@code tool_calls} deltas, split over chunks, are put together by index.
 */
class OpenAiToolCallsTests {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private final BlockingQueue<String> requests = new LinkedBlockingQueue<>();

	private HttpServer server;

	private volatile String answer = "";

	@BeforeEach
	void start() throws IOException {
		server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
		server.createContext("/v1/chat/completions", exchange -> {
			requests.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
			exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
			exchange.sendResponseHeaders(200, 0);
			try (OutputStream out = exchange.getResponseBody()) {
				out.write(answer.getBytes(StandardCharsets.UTF_8));
			}
		});
		server.start();
	}

	@AfterEach
	void stop() {
		server.stop(0);
	}

	@Test
	void assemblesParallelToolCallsFromTheirDeltas() throws Exception {
		answer = sse("{\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"Let me look. \"}}]}",
				"{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"files__read\",\"arguments\":\"\"}}]}}]}",
				"{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"path\\\":\"}}]}}]}",
				"{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"search__query\",\"arguments\":\"{}\"}}]}}]}",
				"{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"a.txt\\\"}\"}}]}}]}",
				"{\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}", "[DONE]");
		List<String> tokens = new ArrayList<>();

		List<ToolRequest> calls = model().respond(request(), List.of(tool("files__read"), tool("search__query")),
				List.of(), tokens::add);

		assertThat(tokens).containsExactly("Let me look. ");
		assertThat(calls).containsExactly(new ToolRequest("call_a", "files__read", "{\"path\":\"a.txt\"}"),
				new ToolRequest("call_b", "search__query", "{}"));
		JsonNode sent = JSON.readTree(requests.poll(5, TimeUnit.SECONDS));
		assertThat(sent.path("tools").get(0).path("type").asString()).isEqualTo("function");
		assertThat(sent.path("tools").get(0).path("function").path("name").asString()).isEqualTo("files__read");
		assertThat(sent.path("tools").get(0).path("function").path("parameters").path("type").asString())
			.isEqualTo("object");
	}

	@Test
	void sendsEarlierRoundsAsToolCallsAndToolMessages() throws Exception {
		answer = sse("{\"choices\":[{\"delta\":{\"content\":\"Done.\"},\"finish_reason\":\"stop\"}]}", "[DONE]");
		List<String> tokens = new ArrayList<>();
		ToolRound round = new ToolRound(List.of(new ToolRequest("call_a", "files__read", "{\"path\":\"a.txt\"}")),
				List.of("the file"));

		List<ToolRequest> calls = model().respond(request(), List.of(tool("files__read")), List.of(round), tokens::add);

		assertThat(calls).isEmpty();
		assertThat(tokens).containsExactly("Done.");
		JsonNode messages = JSON.readTree(requests.poll(5, TimeUnit.SECONDS)).path("messages");
		assertThat(messages.size()).isEqualTo(3);
		assertThat(messages.get(1).path("role").asString()).isEqualTo("assistant");
		assertThat(messages.get(1).path("tool_calls").get(0).path("id").asString()).isEqualTo("call_a");
		assertThat(messages.get(1).path("tool_calls").get(0).path("function").path("arguments").asString())
			.isEqualTo("{\"path\":\"a.txt\"}");
		assertThat(messages.get(2).path("role").asString()).isEqualTo("tool");
		assertThat(messages.get(2).path("tool_call_id").asString()).isEqualTo("call_a");
		assertThat(messages.get(2).path("content").asString()).isEqualTo("the file");
	}

	@Test
	void withoutToolsTheRequestHasNone() throws Exception {
		answer = sse("{\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}", "[DONE]");

		model().generate(request(), token -> {
		});

		assertThat(JSON.readTree(requests.poll(5, TimeUnit.SECONDS)).has("tools")).isFalse();
	}

	private static String sse(String... data) {
		StringBuilder body = new StringBuilder();
		for (String line : data) {
			body.append("data: ").append(line).append("\n\n");
		}
		return body.toString();
	}

	private static ToolDefinition tool(String name) {
		return new ToolDefinition(name, "a tool", Map.of("type", "object"));
	}

	private OpenAiCompatibleModel model() {
		ModelProperties.Upstream upstream = new ModelProperties.Upstream(ModelProperties.Provider.OPENAI,
				URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1"), null, "test-model",
				Duration.ofSeconds(5), Duration.ofSeconds(5));
		return new OpenAiCompatibleModel(upstream,
				HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build());
	}

	private static StartRun request() {
		return new StartRun("r1", "u1", "c1", "gpt", List.of(new StartRun.ChatMessage("user", "Read a.txt")), 50, "g1",
				Instant.now(), null);
	}

}
