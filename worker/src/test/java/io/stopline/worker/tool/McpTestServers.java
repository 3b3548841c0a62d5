package io.stopline.worker.tool;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.stopline.testing.McpTestServer;

/**
 * Starts {@link McpTestServer} processes for a test (stdio: the worker starts it, from
 * the command given here; HTTP: started here) and reads what they recorded.
 */
final class McpTestServers implements AutoCloseable {

	private final List<Process> started = new ArrayList<>();

	static List<String> javaCommand(String... args) {
		return McpTestServer.command(args);
	}

	/** The configuration of a stdio server that records to {@code record}. */
	static ToolProperties.Server stdio(Path record, Duration callTimeout, ToolProperties.OnFailure onFailure) {
		List<String> command = javaCommand("stdio", record.toString());
		return new ToolProperties.Server(ToolProperties.Transport.STDIO, null, command.get(0),
				command.subList(1, command.size()), Map.of(), callTimeout, Duration.ofSeconds(30), onFailure);
	}

	/**
	 * Starts an HTTP server that records to {@code record}, and returns its
	 * configuration.
	 */
	ToolProperties.Server http(Path record, Duration callTimeout, ToolProperties.OnFailure onFailure,
			boolean ignoreCancel) throws IOException {
		List<String> command = javaCommand("http", record.toString());
		if (ignoreCancel) {
			command.add("ignore-cancel");
		}
		Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
		started.add(process);
		CompletableFuture<Integer> port = CompletableFuture.supplyAsync(() -> {
			try (BufferedReader out = new BufferedReader(
					new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
				String line;
				while ((line = out.readLine()) != null) {
					if (line.startsWith("LISTENING ")) {
						return Integer.parseInt(line.substring("LISTENING ".length()).strip());
					}
				}
				throw new IllegalStateException("the MCP test server ended without listening");
			}
			catch (IOException ex) {
				throw new IllegalStateException(ex);
			}
		});
		int listening = port.orTimeout(60, TimeUnit.SECONDS).join();
		return new ToolProperties.Server(ToolProperties.Transport.HTTP,
				URI.create("http://127.0.0.1:" + listening + "/mcp"), null, List.of(), Map.of(), callTimeout,
				Duration.ofSeconds(30), onFailure);
	}

	static List<String[]> lines(Path record) {
		return McpTestServer.lines(record);
	}

	static Optional<String[]> find(Path record, String event, String idOrTool) {
		return McpTestServer.find(record, event, idOrTool);
	}

	static String[] awaitLine(Path record, String event, String idOrTool, Duration bound) throws InterruptedException {
		return McpTestServer.awaitRecord(record, event, idOrTool, bound);
	}

	@Override
	public void close() {
		started.forEach(Process::destroyForcibly);
		// the stdio servers the worker started, should one have outlived its session
		McpTestServer.killStarted();
	}

}
