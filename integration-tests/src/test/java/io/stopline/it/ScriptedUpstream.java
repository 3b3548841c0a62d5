package io.stopline.it;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * An OpenAI-compatible upstream for the browser tests, one agent per path:
 * {@code /<agent>/chat/completions} streams that agent's chunks as server-sent events, or
 * fails with 500 when the agent has no chunks. Model output is what the page must
 * survive, so the chunks may be anything, hostile HTML included.
 */
final class ScriptedUpstream implements AutoCloseable {

	private final HttpServer server;

	private final Map<String, List<String>> answers;

	private final Duration interval;

	private ScriptedUpstream(Map<String, List<String>> answers, Duration interval) throws IOException {
		this.answers = answers;
		this.interval = interval;
		this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
		server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
		server.createContext("/", this::answer);
		server.start();
	}

	static ScriptedUpstream start(Map<String, List<String>> answers, Duration interval) throws IOException {
		return new ScriptedUpstream(answers, interval);
	}

	/** The properties that make the workers use this upstream for each agent. */
	Map<String, String> workerProperties() {
		Map<String, String> properties = new java.util.LinkedHashMap<>();
		for (String agent : answers.keySet()) {
			properties.put("stopline.model.agents." + agent + ".base-url",
					"http://127.0.0.1:" + server.getAddress().getPort() + "/" + agent);
			properties.put("stopline.model.agents." + agent + ".model", agent);
		}
		return properties;
	}

	private void answer(HttpExchange exchange) throws IOException {
		exchange.getRequestBody().readAllBytes();
		String agent = exchange.getRequestURI().getPath().split("/")[1];
		List<String> chunks = answers.getOrDefault(agent, List.of());
		try (exchange) {
			if (chunks.isEmpty()) {
				byte[] body = "{\"error\":{\"message\":\"the model is down\"}}".getBytes(StandardCharsets.UTF_8);
				exchange.getResponseHeaders().add("Content-Type", "application/json");
				exchange.sendResponseHeaders(500, body.length);
				exchange.getResponseBody().write(body);
				return;
			}
			exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
			exchange.sendResponseHeaders(200, 0);
			OutputStream out = exchange.getResponseBody();
			for (String chunk : chunks) {
				String data = Api.JSON.writeValueAsString(Map.of("object", "chat.completion.chunk", "choices",
						List.of(Map.of("index", 0, "delta", Map.of("content", chunk)))));
				out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
				out.flush();
				Thread.sleep(interval);
			}
			out.write("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"
				.getBytes(StandardCharsets.UTF_8));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (IOException ex) {
			// the worker hung up (a stop): nothing more to send
		}
	}

	@Override
	public void close() {
		server.stop(0);
	}

}
