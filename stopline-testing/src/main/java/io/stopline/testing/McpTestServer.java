package io.stopline.testing;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.server.McpAsyncServerExchange;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A real MCP server for the tests, built with the SDK, run as its own process:
 * {@code stdio <record>} or {@code http <record> [ignore-cancel]} (prints
 * {@code LISTENING <port>}). Its tools: {@code block} (never answers), {@code slow}
 * ({@code {"ms": n}}), {@code echo} ({@code {"text": "..."}}), {@code fail}.
 * <p>
 * It records what reaches it, at the wire, one line each in the record file:
 * {@code <epoch µs> call <request id> <tool>}, {@code <epoch µs> cancelled <request id>
 * <reason>}, {@code <epoch µs> closed <request id>} (HTTP: the request's response stream
 * was found closed: a heartbeat could not be written, or the container saw the client
 * go), {@code <epoch µs> completed <request id> <tool>}. The SDK's server itself does not
 * act on {@code notifications/cancelled} (2.0.1), so the record is taken in front of it.
 * With {@code ignore-cancel} the HTTP server never answers a
 * {@code notifications/cancelled} or a session's {@code DELETE}.
 */
public final class McpTestServer {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final McpJsonMapper MCP_JSON = McpJsonDefaults.getMapper();

	private static Path record;

	private static java.io.PrintStream out;

	private McpTestServer() {
	}

	public static void main(String[] args) throws Exception {
		// stdout is the protocol's (stdio): anything else printed goes to stderr
		java.io.PrintStream protocol = System.out;
		System.setOut(System.err);
		if (org.slf4j.LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext logging) {
			logging.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(ch.qos.logback.classic.Level.WARN);
		}
		out = protocol;
		record = Path.of(args[1]);
		Files.writeString(record, "", StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
		if ("stdio".equals(args[0])) {
			stdio();
		}
		else {
			http(args.length > 2 && "ignore-cancel".equals(args[2]));
		}
	}

	/**
	 * The command that starts this server in a new JVM with the caller's class path:
	 * {@code command("stdio", record)} or {@code command("http", record)}.
	 */
	public static List<String> command(String... args) {
		List<String> command = new java.util.ArrayList<>();
		command.add(ProcessHandle.current().info().command().orElse("java"));
		command.add("-XX:TieredStopAtLevel=1");
		command.add("-cp");
		command.add(System.getProperty("java.class.path"));
		command.add(McpTestServer.class.getName());
		command.addAll(List.of(args));
		return command;
	}

	/** The record's lines, each {@code <epoch µs> <event> <id> [detail]}. */
	public static List<String[]> lines(Path record) {
		try {
			return Files.readAllLines(record).stream().map(line -> line.split(" ")).toList();
		}
		catch (IOException ex) {
			return List.of();
		}
	}

	/**
	 * The first line of {@code event} whose id or detail (the tool) is {@code idOrTool}.
	 */
	public static java.util.Optional<String[]> find(Path record, String event, String idOrTool) {
		return lines(record).stream()
			.filter(line -> line.length > 2 && line[1].equals(event)
					&& (line[2].equals(idOrTool) || (line.length > 3 && line[3].equals(idOrTool))))
			.findFirst();
	}

	/** Waits for such a line, polling every 2 ms, at most {@code bound}. */
	public static String[] awaitRecord(Path record, String event, String idOrTool, Duration bound)
			throws InterruptedException {
		long deadline = System.nanoTime() + bound.toNanos();
		while (true) {
			java.util.Optional<String[]> line = find(record, event, idOrTool);
			if (line.isPresent()) {
				return line.get();
			}
			if (System.nanoTime() > deadline) {
				throw new AssertionError(
						"the MCP test server recorded no " + event + " " + idOrTool + " within " + bound);
			}
			Thread.sleep(2);
		}
	}

	/** Ends every test server this JVM started, directly or through a worker. */
	public static void killStarted() {
		ProcessHandle.current()
			.descendants()
			.filter(process -> process.info()
				.arguments()
				.map(args -> List.of(args).contains(McpTestServer.class.getName()))
				.orElse(false))
			.forEach(ProcessHandle::destroyForcibly);
	}

	static synchronized void record(String line) {
		long micros = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
		try {
			Files.writeString(record, micros + " " + line + "\n", StandardOpenOption.APPEND);
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/** Records the requests and cancellations of one JSON-RPC message. */
	static void inspect(String message) {
		try {
			JsonNode node = JSON.readTree(message);
			String method = node.path("method").asString("");
			if ("tools/call".equals(method)) {
				record("call " + node.path("id").asString() + " " + node.path("params").path("name").asString());
			}
			else if ("notifications/cancelled".equals(method)) {
				JsonNode params = node.path("params");
				record("cancelled " + params.path("requestId").asString() + " "
						+ params.path("reason").asString("").replace(' ', '_'));
			}
		}
		catch (RuntimeException ex) {
			// not JSON: the SDK answers it
		}
	}

	private static void stdio() throws IOException {
		PipedInputStream in = new PipedInputStream(1 << 16);
		OutputStream toServer = new PipedOutputStream(in);
		Thread.ofPlatform().daemon().start(() -> {
			try (BufferedReader lines = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
				String line;
				while ((line = lines.readLine()) != null) {
					inspect(line);
					toServer.write((line + "\n").getBytes(StandardCharsets.UTF_8));
					toServer.flush();
				}
				toServer.close();
			}
			catch (IOException ex) {
				System.exit(0);
			}
		});
		StdioServerTransportProvider provider = new StdioServerTransportProvider(MCP_JSON, in, out);
		McpServer.async(provider)
			.serverInfo("stopline-test-server", "1")
			.capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
			.tools(tools(false))
			.build();
		// the transport reads on its own threads; stay up until stdin closes
		while (true) {
			try {
				Thread.sleep(Duration.ofHours(1));
			}
			catch (InterruptedException ex) {
				return;
			}
		}
	}

	private static void http(boolean ignoreCancel) throws Exception {
		HttpServletStreamableServerTransportProvider provider = HttpServletStreamableServerTransportProvider.builder()
			.jsonMapper(MCP_JSON)
			.mcpEndpoint("/mcp")
			.build();
		McpServer.async(provider)
			.serverInfo("stopline-test-server", "1")
			.capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
			.tools(tools(true))
			.build();
		Tomcat tomcat = new Tomcat();
		tomcat.setBaseDir(Files.createTempDirectory("mcp-test-tomcat").toString());
		tomcat.setPort(0);
		tomcat.getConnector();
		Context context = tomcat.addContext("", null);
		Tomcat.addServlet(context, "mcp", provider).setAsyncSupported(true);
		context.addServletMappingDecoded("/mcp", "mcp");
		FilterDef filter = new FilterDef();
		filter.setFilterName("recorder");
		filter.setFilter(new Recorder(ignoreCancel));
		filter.setAsyncSupported("true");
		context.addFilterDef(filter);
		FilterMap mapping = new FilterMap();
		mapping.setFilterName("recorder");
		mapping.addURLPattern("/*");
		context.addFilterMap(mapping);
		tomcat.start();
		out.println("LISTENING " + tomcat.getConnector().getLocalPort());
		out.flush();
		tomcat.getServer().await();
	}

	private static List<McpServerFeatures.AsyncToolSpecification> tools(boolean heartbeat) {
		return List.of(tool("block", "Never answers.", (exchange, request) -> {
			Mono<McpSchema.CallToolResult> never = Mono.never();
			if (!heartbeat) {
				return never;
			}
			// a write every 5 ms, so a closed response stream is noticed
			return Flux.interval(Duration.ofMillis(5))
				.concatMap(tick -> exchange.progressNotification(
						new McpSchema.ProgressNotification("heartbeat", tick.doubleValue(), null, null)))
				.then(never);
		}), tool("slow", "Answers after ms milliseconds.", (exchange, request) -> {
			long ms = ((Number) request.arguments().getOrDefault("ms", 100)).longValue();
			return Mono.delay(Duration.ofMillis(ms)).map(tick -> {
				record("completed - slow");
				return text("slept " + ms);
			});
		}), tool("echo", "Answers its text.", (exchange, request) -> Mono.fromSupplier(() -> {
			record("completed - echo");
			return text(String.valueOf(request.arguments().get("text")));
		})), tool("fail", "Answers with an error.", (exchange, request) -> Mono
			.just(McpSchema.CallToolResult.builder().addTextContent("it broke").isError(true).build())));
	}

	private static McpServerFeatures.AsyncToolSpecification tool(String name, String description,
			java.util.function.BiFunction<McpAsyncServerExchange, McpSchema.CallToolRequest, Mono<McpSchema.CallToolResult>> handler) {
		McpSchema.Tool tool = McpSchema.Tool.builder(name, Map.of("type", "object")).description(description).build();
		return McpServerFeatures.AsyncToolSpecification.builder().tool(tool).callHandler(handler).build();
	}

	private static McpSchema.CallToolResult text(String text) {
		return McpSchema.CallToolResult.builder().addTextContent(text).build();
	}

	/**
	 * In front of the SDK's servlet: records calls and cancellations as they arrive, and
	 * a request's response stream once the server finds it closed.
	 */
	private static final class Recorder implements Filter {

		private final boolean ignoreCancel;

		Recorder(boolean ignoreCancel) {
			this.ignoreCancel = ignoreCancel;
		}

		@Override
		public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
				throws IOException, ServletException {
			HttpServletRequest http = (HttpServletRequest) request;
			byte[] body = http.getInputStream().readAllBytes();
			String message = new String(body, StandardCharsets.UTF_8);
			inspect(message);
			boolean cancel = message.contains("\"notifications/cancelled\"");
			if (ignoreCancel && (cancel || "DELETE".equals(http.getMethod()))) {
				// never answers
				try {
					Thread.sleep(Duration.ofMinutes(10));
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
				return;
			}
			String id = requestId(message);
			AtomicBoolean closed = new AtomicBoolean();
			Runnable onClosed = () -> {
				if (id != null && closed.compareAndSet(false, true)) {
					record("closed " + id);
				}
			};
			chain.doFilter(new CachedBody(http, body), new WatchedResponse((HttpServletResponse) response, onClosed));
			if (request.isAsyncStarted()) {
				request.getAsyncContext().addListener(new AsyncListener() {
					@Override
					public void onComplete(AsyncEvent event) {
					}

					@Override
					public void onTimeout(AsyncEvent event) {
					}

					@Override
					public void onError(AsyncEvent event) {
						onClosed.run();
					}

					@Override
					public void onStartAsync(AsyncEvent event) {
					}
				});
			}
		}

		private static String requestId(String message) {
			try {
				JsonNode node = JSON.readTree(message);
				return "tools/call".equals(node.path("method").asString("")) ? node.path("id").asString() : null;
			}
			catch (RuntimeException ex) {
				return null;
			}
		}

	}

	private static final class CachedBody extends HttpServletRequestWrapper {

		private final byte[] body;

		CachedBody(HttpServletRequest request, byte[] body) {
			super(request);
			this.body = body;
		}

		@Override
		public ServletInputStream getInputStream() {
			InputStream in = new ByteArrayInputStream(body);
			return new ServletInputStream() {
				@Override
				public int read() throws IOException {
					return in.read();
				}

				@Override
				public boolean isFinished() {
					return false;
				}

				@Override
				public boolean isReady() {
					return true;
				}

				@Override
				public void setReadListener(ReadListener listener) {
				}
			};
		}

		@Override
		public BufferedReader getReader() {
			return new BufferedReader(new InputStreamReader(new ByteArrayInputStream(body), StandardCharsets.UTF_8));
		}

	}

	/** Notices when a write to the response fails: the client closed the stream. */
	private static final class WatchedResponse extends HttpServletResponseWrapper {

		private final Runnable onClosed;

		WatchedResponse(HttpServletResponse response, Runnable onClosed) {
			super(response);
			this.onClosed = onClosed;
		}

		@Override
		public PrintWriter getWriter() throws IOException {
			PrintWriter writer = super.getWriter();
			return new PrintWriter(writer) {
				@Override
				public boolean checkError() {
					boolean error = super.checkError();
					if (error) {
						onClosed.run();
					}
					return error;
				}
			};
		}

	}

}
