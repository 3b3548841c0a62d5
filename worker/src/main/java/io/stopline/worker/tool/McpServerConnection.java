package io.stopline.worker.tool;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.modelcontextprotocol.client.McpAsyncClient;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.spec.McpSchema;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One configured MCP server: its shared session (the tool list, and on stdio every call:
 * one process, one pipe) and, on Streamable HTTP, a session of its own per run, so that a
 * stop can close exactly that run's response streams.
 */
final class McpServerConnection implements AutoCloseable {

	private static final Logger log = LoggerFactory.getLogger(McpServerConnection.class);

	private static final McpSchema.Implementation CLIENT = new McpSchema.Implementation("stopline-worker", "0.1.0");

	private final String name;

	private final ToolProperties.Server server;

	private @Nullable Session shared;

	private @Nullable List<McpSchema.Tool> tools;

	McpServerConnection(String name, ToolProperties.Server server) {
		this.name = name;
		this.server = server;
	}

	String name() {
		return name;
	}

	ToolProperties.Server server() {
		return server;
	}

	/**
	 * After a failed listing, runs go without this server's tools for a while instead of
	 * each waiting.
	 */
	private static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(5);

	private long failedAt;

	/** The server's tools, listed once. */
	synchronized List<McpSchema.Tool> tools() {
		if (tools == null) {
			if (failedAt != 0 && System.nanoTime() - failedAt < RETRY_AFTER_FAILURE.toNanos()) {
				throw new IllegalStateException("MCP server " + name + " failed recently");
			}
			try {
				tools = list();
				failedAt = 0;
			}
			catch (RuntimeException ex) {
				if (!Thread.currentThread().isInterrupted()) {
					failedAt = System.nanoTime();
				}
				throw ex;
			}
		}
		return tools;
	}

	private List<McpSchema.Tool> list() {
		McpAsyncClient client = shared().client();
		List<McpSchema.Tool> listed = new ArrayList<>();
		String cursor = null;
		do {
			McpSchema.ListToolsResult page = client.listTools(cursor).block(server.connectTimeout());
			if (page == null) {
				break;
			}
			listed.addAll(page.tools());
			cursor = page.nextCursor();
		}
		while (cursor != null);
		return List.copyOf(listed);
	}

	/**
	 * The session a run's calls go through: the shared one on stdio, a new one (opened
	 * with its first call) on HTTP.
	 */
	Session sessionForRun() {
		return server.transport() == ToolProperties.Transport.STDIO ? shared() : open(false);
	}

	private synchronized Session shared() {
		if (shared == null) {
			Session session = open(true);
			try {
				session.client().initialize().block(server.connectTimeout());
			}
			catch (RuntimeException ex) {
				session.close();
				throw ex;
			}
			shared = session;
		}
		return shared;
	}

	/**
	 * Forgets a shared session that failed (a stdio server that died): the next call
	 * opens another.
	 */
	synchronized void failed(Session session) {
		if (session == shared) {
			shared = null;
			session.close();
			log.warn("the session with MCP server {} failed; the next call opens a new one", name);
		}
	}

	private Session open(boolean isShared) {
		OwnedHttpClientBuilder http = new OwnedHttpClientBuilder();
		CancellableTransport transport = new CancellableTransport(switch (server.transport()) {
			case STDIO -> stdio();
			case HTTP -> http(http);
		});
		McpAsyncClient client = McpClient.async(transport)
			.clientInfo(CLIENT)
			// the worker keeps each call's deadline itself; the SDK's is only a backstop
			.requestTimeout(server.callTimeout().plus(Duration.ofSeconds(30)))
			.initializationTimeout(server.connectTimeout())
			.build();
		return new Session(this, client, transport, isShared, http);
	}

	private StdioClientTransport stdio() {
		ServerParameters parameters = ServerParameters.builder(server.command())
			.args(server.args())
			.env(server.env())
			.build();
		StdioClientTransport transport = new StdioClientTransport(parameters, McpJsonDefaults.getMapper());
		// a server's stderr may repeat arguments or results: never logged
		transport.setStdErrorHandler(line -> {
		});
		return transport;
	}

	private HttpClientStreamableHttpTransport http(OwnedHttpClientBuilder client) {
		URI url = server.url();
		String base = url.getScheme() + "://" + url.getRawAuthority();
		String endpoint = url.getRawPath() + (url.getRawQuery() != null ? "?" + url.getRawQuery() : "");
		return HttpClientStreamableHttpTransport.builder(base)
			.clientBuilder(client)
			.endpoint(endpoint.isEmpty() ? "/" : endpoint)
			.connectTimeout(server.connectTimeout())
			.build();
	}

	/**
	 * At the worker's end: ends the shared session (a stdio server's process) and waits
	 * for it, briefly.
	 */
	@Override
	public synchronized void close() {
		if (shared != null) {
			shared.client().closeGracefully().timeout(Duration.ofSeconds(2)).onErrorComplete().block();
			shared.shutDownHttp();
			shared = null;
		}
	}

	/**
	 * An MCP client session with the server, and the transport that cancels its calls.
	 */
	record Session(McpServerConnection connection, McpAsyncClient client, CancellableTransport transport,
			boolean isShared, OwnedHttpClientBuilder http) {

		private static final Duration CLOSE_BOUND = Duration.ofMillis(500);

		/**
		 * Ends the session without waiting. On HTTP: the session's {@code DELETE}, then
		 * (however that went, within half a second) the session's HTTP client is shut
		 * down, which closes every response stream still open.
		 */
		void close() {
			client.closeGracefully()
				.timeout(CLOSE_BOUND)
				.onErrorComplete()
				.doFinally(signal -> shutDownHttp())
				.subscribe();
		}

		void shutDownHttp() {
			java.net.http.HttpClient built = http.built();
			if (built != null) {
				built.shutdownNow();
			}
		}

	}

}
