package io.stopline.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A streaming chat server for tests, on a plain socket so that it sees exactly what a
 * real upstream sees: it streams an answer in one provider's wire format
 * ({@link Protocol}) as a {@link Behaviour} says and records, for each request, when the
 * client closed the connection (a thread blocked on the socket's input returns -1 the
 * moment the client's FIN arrives, independent of the writes).
 */
public final class FakeUpstream implements AutoCloseable {

	/** The wire format of the answer, whatever path the request names. */
	public enum Protocol {

		/** OpenAI chat completions: server-sent {@code data:} chunks, then [DONE]. */
		OPENAI,

		/** Ollama {@code /api/chat}: one JSON object per line (NDJSON). */
		OLLAMA,

		/** Anthropic Messages: typed server-sent events. */
		ANTHROPIC

	}

	/** How the server answers every request. */
	public sealed interface Behaviour {

		/** {@code tokens} chunks (forever when negative), then a finish and [DONE]. */
		record Stream(int tokens, Duration interval) implements Behaviour {
		}

		record Status(int status, String body) implements Behaviour {
		}

		/** A few good chunks, then a line that is not JSON. */
		record Malformed() implements Behaviour {
		}

		/** {@code tokens} chunks, then the connection closes without a finish. */
		record Truncated(int tokens) implements Behaviour {
		}

		/** {@code tokens} chunks, then silence with the connection open. */
		record Stall(int tokens) implements Behaviour {
		}

		/**
		 * A token, then a call of tool {@code name} with {@code arguments} (JSON text),
		 * then the finish.
		 */
		record ToolCall(String name, String arguments) implements Behaviour {
		}

	}

	/** One request the server took: what it sent, and when the client went away. */
	public static final class Exchange {

		private final String request;

		private final AtomicInteger sent = new AtomicInteger();

		/** When each token was written (wall clock, as a stop receipt's stages are). */
		private final java.util.Queue<java.time.Instant> writtenAt = new java.util.concurrent.ConcurrentLinkedQueue<>();

		private volatile long disconnectedNanos;

		private volatile int sentAtDisconnect;

		private final java.util.concurrent.CountDownLatch served = new java.util.concurrent.CountDownLatch(1);

		private final java.util.concurrent.CountDownLatch disconnected = new java.util.concurrent.CountDownLatch(1);

		Exchange(String request) {
			this.request = request;
		}

		public String request() {
			return request;
		}

		public int tokensSent() {
			return sent.get();
		}

		/**
		 * Waits for the client to close the connection; the {@link System#nanoTime()} it
		 * did, or -1.
		 */
		public long awaitDisconnect(Duration bound) throws InterruptedException {
			return disconnected.await(bound.toMillis(), TimeUnit.MILLISECONDS) ? disconnectedNanos : -1;
		}

		/**
		 * Tokens this server wrote after {@code at} (a stop's request time): what the
		 * upstream produced, and would bill, after the user asked to stop.
		 */
		public int tokensSentAfter(java.time.Instant at) {
			return (int) writtenAt.stream().filter(written -> written.isAfter(at)).count();
		}

		/** Tokens written when the client's disconnect was seen. */
		public int tokensSentAtDisconnect() {
			return sentAtDisconnect;
		}

		/** Waits until the server stopped writing this answer; true when it did. */
		public boolean awaitServerDone(Duration bound) throws InterruptedException {
			return served.await(bound.toMillis(), TimeUnit.MILLISECONDS);
		}

		boolean isDisconnected() {
			return disconnected.getCount() == 0;
		}

		void disconnected() {
			sentAtDisconnect = sent.get();
			disconnectedNanos = System.nanoTime();
			disconnected.countDown();
		}

	}

	private final ServerSocket server;

	private volatile Behaviour behaviour = new Behaviour.Stream(-1, Duration.ofMillis(20));

	private final BlockingQueue<Exchange> exchanges = new LinkedBlockingQueue<>();

	private final Protocol protocol;

	private FakeUpstream(ServerSocket server, Protocol protocol) {
		this.server = server;
		this.protocol = protocol;
		Thread.ofVirtual().name("fake-upstream").start(this::accept);
	}

	public static FakeUpstream start() {
		return start(Protocol.OPENAI);
	}

	public static FakeUpstream start(Protocol protocol) {
		try {
			return new FakeUpstream(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), protocol);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	public String baseUrl() {
		return origin() + "/v1";
	}

	/** The server's root, for clients that append their own path. */
	public String origin() {
		return "http://127.0.0.1:" + server.getLocalPort();
	}

	/** Answers the following requests so; forgets the requests taken so far. */
	public FakeUpstream behave(Behaviour next) {
		this.behaviour = next;
		exchanges.clear();
		return this;
	}

	/** The next request the server took, or null within {@code bound}. */
	public Exchange nextExchange(Duration bound) throws InterruptedException {
		return exchanges.poll(bound.toMillis(), TimeUnit.MILLISECONDS);
	}

	@Override
	public void close() {
		try {
			server.close();
		}
		catch (IOException ex) {
			// closing anyway
		}
	}

	private void accept() {
		while (!server.isClosed()) {
			try {
				Socket socket = server.accept();
				Thread.ofVirtual().start(() -> serve(socket));
			}
			catch (IOException ex) {
				return;
			}
		}
	}

	private void serve(Socket socket) {
		try (socket) {
			InputStream in = socket.getInputStream();
			String request = readRequest(in);
			Exchange exchange = new Exchange(request);
			exchanges.add(exchange);
			// the client's FIN (or RST) ends this read: that is the disconnect
			Thread.ofVirtual().start(() -> {
				try {
					while (in.read() != -1) {
						// a client sends nothing more on this connection
					}
				}
				catch (IOException ex) {
					// reset: gone as well
				}
				exchange.disconnected();
			});
			// returns when the answer is complete (the server then closes, as it said it
			// would), or when the client went away mid-write
			try {
				respond(new Wire(protocol, socket.getOutputStream(), exchange), behaviour);
			}
			finally {
				exchange.served.countDown();
			}
		}
		catch (IOException | InterruptedException ex) {
			// the client went away mid-write: recorded by the reader
		}
	}

	private static void respond(Wire out, Behaviour behaviour) throws IOException, InterruptedException {
		switch (behaviour) {
			case Behaviour.Status status -> out.status(status.status(), status.body());
			case Behaviour.Stream stream -> {
				out.head();
				for (int i = 0; stream.tokens() < 0 || i < stream.tokens(); i++) {
					if (out.exchange().isDisconnected()) {
						// as real servers do (vLLM checks for a disconnect between
						// tokens):
						// a client that left ends the generation
						return;
					}
					out.token(i);
					Thread.sleep(stream.interval());
				}
				out.finish();
			}
			case Behaviour.Malformed malformed -> {
				out.head();
				out.token(0);
				out.malformed();
				Thread.sleep(Duration.ofSeconds(30));
			}
			case Behaviour.Truncated truncated -> {
				out.head();
				for (int i = 0; i < truncated.tokens(); i++) {
					out.token(i);
				}
			}
			case Behaviour.Stall stall -> {
				out.head();
				for (int i = 0; i < stall.tokens(); i++) {
					out.token(i);
				}
				Thread.sleep(Duration.ofMinutes(5));
			}
			case Behaviour.ToolCall call -> {
				out.head();
				out.token(0);
				out.toolCall(call.name(), call.arguments());
			}
		}
	}

	/**
	 * One answer in one provider's format: tokens {@code t0}, {@code " t1"}, ... and a
	 * last {@code "!"} that comes with the finish.
	 */
	private record Wire(Protocol protocol, OutputStream out, Exchange exchange) {

		void status(int status, String text) throws IOException {
			byte[] body = text.getBytes(StandardCharsets.UTF_8);
			write("HTTP/1.1 " + status + " Error\r\nContent-Type: application/json\r\nContent-Length: " + body.length
					+ "\r\nConnection: close\r\n\r\n");
			out.write(body);
			out.flush();
		}

		void head() throws IOException {
			// no length, connection close: the body runs until the server closes it
			String type = (protocol == Protocol.OLLAMA) ? "application/x-ndjson" : "text/event-stream";
			write("HTTP/1.1 200 OK\r\nContent-Type: " + type + "\r\nCache-Control: no-cache\r\n"
					+ "Connection: close\r\n\r\n");
			switch (protocol) {
				// as Azure OpenAI starts: a chunk without choices
				case OPENAI -> write("data: {\"id\":\"\",\"object\":\"\",\"created\":0,\"model\":\"\",\"choices\":[],"
						+ "\"prompt_filter_results\":[]}\n\n");
				case OLLAMA -> {
				}
				case ANTHROPIC -> {
					event("message_start",
							"{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":"
									+ "\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"test-model\","
									+ "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":5,"
									+ "\"output_tokens\":1}}}");
					event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
							+ "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
				}
			}
		}

		void token(int index) throws IOException {
			text((index == 0 ? "" : " ") + "t" + index, false);
			exchange.sent.incrementAndGet();
			exchange.writtenAt.add(java.time.Instant.now());
		}

		void finish() throws IOException {
			// as vLLM ends: the last text comes with the finish
			text("!", true);
			switch (protocol) {
				case OPENAI -> write("data: [DONE]\n\n");
				case OLLAMA -> {
				}
				case ANTHROPIC -> {
					event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}");
					event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
							+ "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}");
					event("message_stop", "{\"type\":\"message_stop\"}");
				}
			}
		}

		void malformed() throws IOException {
			switch (protocol) {
				case OPENAI -> write("data: {\"choices\":[{\"delta\":{\"content\":\n\n");
				case OLLAMA -> write("{\"message\":{\"content\":\n");
				case ANTHROPIC -> write("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\n\n");
			}
		}

		/** The call streamed as each provider streams one, its arguments in two parts. */
		void toolCall(String name, String arguments) throws IOException {
			int half = arguments.length() / 2;
			String first = quoted(arguments.substring(0, half));
			String second = quoted(arguments.substring(half));
			switch (protocol) {
				case OPENAI -> {
					String chunk = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,"
							+ "\"model\":\"test-model\",\"choices\":[{\"index\":0,\"delta\":";
					write(chunk + "{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\","
							+ "\"function\":{\"name\":\"" + name + "\",\"arguments\":" + first
							+ "}}]},\"finish_reason\":null}]}\n\n");
					write(chunk + "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":" + second
							+ "}}]},\"finish_reason\":null}]}\n\n");
					write(chunk + "{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n");
				}
				// Ollama sends a call whole, its arguments as an object
				case OLLAMA -> write("{\"model\":\"test-model\",\"created_at\":\"2026-01-01T00:00:00Z\","
						+ "\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":"
						+ "{\"name\":\"" + name + "\",\"arguments\":" + arguments + "}}]},\"done\":false}\n"
						+ "{\"model\":\"test-model\",\"created_at\":\"2026-01-01T00:00:00Z\",\"message\":"
						+ "{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\"}\n");
				case ANTHROPIC -> {
					event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}");
					event("content_block_start",
							"{\"type\":\"content_block_start\",\"index\":1,"
									+ "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"" + name
									+ "\",\"input\":{}}}");
					for (String part : List.of(first, second)) {
						event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":1,"
								+ "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":" + part + "}}");
					}
					event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}");
					event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
							+ "\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}");
					event("message_stop", "{\"type\":\"message_stop\"}");
				}
			}
		}

		private static String quoted(String text) {
			return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
		}

		private void text(String text, boolean last) throws IOException {
			switch (protocol) {
				case OPENAI -> write("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,"
						+ "\"model\":\"test-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + text
						+ "\"},\"finish_reason\":" + (last ? "\"stop\"" : "null") + "}]}\n\n");
				case OLLAMA -> write("{\"model\":\"test-model\",\"created_at\":\"2026-01-01T00:00:00Z\","
						+ "\"message\":{\"role\":\"assistant\",\"content\":\"" + text + "\"},\"done\":" + last
						+ (last ? ",\"done_reason\":\"stop\",\"prompt_eval_count\":5,\"eval_count\":9" : "") + "}\n");
				case ANTHROPIC -> event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
						+ "\"delta\":{\"type\":\"text_delta\",\"text\":\"" + text + "\"}}");
			}
		}

		private void event(String name, String data) throws IOException {
			write("event: " + name + "\ndata: " + data + "\n\n");
		}

		private void write(String text) throws IOException {
			out.write(text.getBytes(StandardCharsets.UTF_8));
			out.flush();
		}

	}

	/** Reads the request head and its Content-Length body. */
	private static String readRequest(InputStream in) throws IOException {
		StringBuilder head = new StringBuilder();
		while (!head.toString().endsWith("\r\n\r\n")) {
			int b = in.read();
			if (b == -1) {
				throw new IOException("request ended early");
			}
			head.append((char) b);
		}
		int length = 0;
		for (String line : head.toString().split("\r\n")) {
			if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
				length = Integer.parseInt(line.substring("content-length:".length()).strip());
			}
		}
		return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
	}

}
