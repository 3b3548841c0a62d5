package io.stopline.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.stopline.it.Api.ChatStream;
import io.stopline.testing.McpTestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An agent with MCP tools, end to end: a gateway and a worker on real Redis, the worker's
 * stdio MCP server a real process ({@link McpTestServer}), the simulated model calling
 * what the prompt says. A stop through the API reaches the tool call in flight; the
 * history and the stream say what happened to each call.
 */
class AgentToolsIntegrationTests {

	private static final Duration BOUND = Duration.ofSeconds(30);

	private static final Path record = recordFile();

	@RegisterExtension
	static final Cluster cluster = Cluster.onSharedRedis(1, 1, workerProperties(), Map.of());

	private static Path recordFile() {
		try {
			return Files.createTempFile("mcp-record", ".txt");
		}
		catch (java.io.IOException ex) {
			throw new java.io.UncheckedIOException(ex);
		}
	}

	/**
	 * The worker's MCP server: {@link McpTestServer} over stdio, recording to
	 * {@link #record}.
	 */
	private static Map<String, String> workerProperties() {
		Map<String, String> worker = new LinkedHashMap<>();
		List<String> command = McpTestServer.command("stdio", record.toString());
		worker.put("stopline.tools.servers.t.transport", "stdio");
		worker.put("stopline.tools.servers.t.command", command.get(0));
		for (int i = 1; i < command.size(); i++) {
			worker.put("stopline.tools.servers.t.args[" + (i - 1) + "]", command.get(i));
		}
		worker.put("stopline.tools.servers.t.connect-timeout", "30s");
		worker.put("stopline.tools.agents.assistant.allowed", "t.*");
		worker.put("stopline.model.simulated.token-delay", "2ms");
		return worker;
	}

	@AfterAll
	static void endServers() throws Exception {
		McpTestServer.killStarted();
		Files.deleteIfExists(record);
	}

	@AfterEach
	void nothingLeftRunning() {
		await().atMost(BOUND).untilAsserted(() -> assertThat(cluster.tasks(0).size()).isZero());
	}

	@Test
	void aStopThroughTheApiCancelsTheToolCallInFlight() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		String conversation = "tools-" + UUID.randomUUID();
		ChatStream stream = alice.chatStream(conversation, 50, prompt("/tool t__block {}"));
		String id = McpTestServer.awaitRecord(record, "call", "block", BOUND)[2];
		assertThat(next(stream, "tool_calls")).contains("\"name\":\"t__block\"");

		long stoppedAt = micros();
		Api.Response stop = alice.stop(conversation);
		long answeredAt = micros();
		assertThat(stop.status()).isEqualTo(200);
		long seenAt = Long.parseLong(McpTestServer.awaitRecord(record, "cancelled", id, BOUND)[0]);
		System.out.printf(
				"[tools] end to end, stdio: stop request -> cancel seen by the server %.1f ms, stop answered after %.1f ms%n",
				(seenAt - stoppedAt) / 1000.0, (answeredAt - stoppedAt) / 1000.0);

		assertThat(next(stream, "\"finish_reason\":\"")).contains("\"finish_reason\":\"cancelled\"");
		JsonNode messages = alice.history(conversation).json().get("messages");
		JsonNode tool = messages.get(1);
		assertThat(tool.get("role").asString()).isEqualTo("tool");
		assertThat(tool.get("status").asString()).isEqualTo("cancelled_before_result");
		assertThat(tool.get("tool_call").get("name").asString()).isEqualTo("t__block");
		assertThat(tool.get("tool_call").get("status").asString()).isEqualTo("cancelled_before_result");
		assertThat(messages.get(2).get("status").asString()).isEqualTo("stopped");
		assertThat(messages.get(2).get("stop_reason").asString()).isEqualTo("user");
	}

	@Test
	void aCompletedCallGoesBackToTheModelAndIntoTheHistory() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		String conversation = "tools-" + UUID.randomUUID();
		ChatStream stream = alice.chatStream(conversation, 3, prompt("/tool t__echo {\"text\":\"pong\"}"));

		assertThat(next(stream, "tool_calls")).contains("\"id\":\"call_0_0\"").contains("t__echo");
		assertThat(next(stream, "\"finish_reason\":\"")).contains("\"finish_reason\":\"stop\"");
		JsonNode messages = alice.history(conversation).json().get("messages");
		assertThat(messages.get(1).get("role").asString()).isEqualTo("tool");
		assertThat(messages.get(1).get("content").asString()).isEqualTo("pong");
		assertThat(messages.get(1).get("tool_call").get("status").asString()).isEqualTo("completed");
		assertThat(messages.get(1).get("tool_call").get("result_chars").asInt()).isEqualTo(4);
		assertThat(messages.get(2).get("role").asString()).isEqualTo("assistant");
		assertThat(messages.get(2).get("content").asString()).startsWith("[t__echo: pong] ");
	}

	@Test
	void aPauseDuringACallLetsItFinishAndHoldsTheNextTurnUntilResumed() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		String conversation = "tools-" + UUID.randomUUID();
		long echoes = calls("echo");
		ChatStream stream = alice.chatStream(conversation, 3,
				prompt("/tool t__slow {\"ms\":2000}\n/then\n/tool t__echo {\"text\":\"after-pause\"}"));
		McpTestServer.awaitRecord(record, "call", "slow", BOUND);

		assertThat(alice.pause(conversation).status()).isEqualTo(200);
		McpTestServer.awaitRecord(record, "completed", "slow", BOUND);
		// paused: the next model turn (and its call) waits; a bounded look, not a proof
		await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> calls("echo") == echoes);

		assertThat(alice.resume(conversation).status()).isEqualTo(200);
		assertThat(next(stream, "\"finish_reason\":\"")).contains("\"finish_reason\":\"stop\"");
		JsonNode messages = alice.history(conversation).json().get("messages");
		assertThat(messages.get(1).get("tool_call").get("status").asString()).isEqualTo("completed");
		assertThat(messages.get(2).get("tool_call").get("status").asString()).isEqualTo("completed");
		assertThat(messages.get(3).get("content").asString()).startsWith("[t__echo: after-pause] ");
	}

	/** The calls of a tool the server saw so far (the tests share one server). */
	private static long calls(String tool) {
		return McpTestServer.lines(record)
			.stream()
			.filter(line -> line.length > 3 && line[1].equals("call") && line[3].equals(tool))
			.count();
	}

	private static Map<String, Object> prompt(String text) {
		return Map.of("messages", List.of(Map.of("role", "user", "content", text)));
	}

	/** The next event of the stream that contains {@code marker}. */
	private static String next(ChatStream stream, String marker) throws InterruptedException {
		long deadline = System.nanoTime() + BOUND.toNanos();
		while (System.nanoTime() < deadline) {
			String event = stream.next(BOUND);
			if (event != null && event.contains(marker)) {
				return event;
			}
		}
		throw new AssertionError("no event with " + marker);
	}

	private static long micros() {
		return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
	}

}
