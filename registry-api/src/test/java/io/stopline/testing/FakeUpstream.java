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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI-compatible chat completion server for tests, on a plain socket so that it
 * sees exactly what a real upstream sees: it streams {@code data:} chunks as a
 * {@link Behaviour} says and records, for each request, when the client closed the
 * connection (a thread blocked on the socket's input returns -1 the moment the client's
 * FIN arrives, independent of the writes).
 */
public final class FakeUpstream implements AutoCloseable {

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

	}

	/** One request the server took: what it sent, and when the client went away. */
	public static final class Exchange {

		private final String request;

		private final AtomicInteger sent = new AtomicInteger();

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

		/** Tokens written when the client's disconnect was seen. */
		public int tokensSentAtDisconnect() {
			return sentAtDisconnect;
		}

		/** Waits until the server stopped writing this answer; true when it did. */
		public boolean awaitServerDone(Duration bound) throws InterruptedException {
			return served.await(bound.toMillis(), TimeUnit.MILLISECONDS);
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

	private FakeUpstream(ServerSocket server) {
		this.server = server;
		Thread.ofVirtual().name("fake-upstream").start(this::accept);
	}

	public static FakeUpstream start() {
		try {
			return new FakeUpstream(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	public String baseUrl() {
		return "http://127.0.0.1:" + server.getLocalPort() + "/v1";
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
				respond(socket.getOutputStream(), exchange, behaviour);
			}
			finally {
				exchange.served.countDown();
			}
		}
		catch (IOException | InterruptedException ex) {
			// the client went away mid-write: recorded by the reader
		}
	}

	private static void respond(OutputStream out, Exchange exchange, Behaviour behaviour)
			throws IOException, InterruptedException {
		switch (behaviour) {
			case Behaviour.Status status -> {
				byte[] body = status.body().getBytes(StandardCharsets.UTF_8);
				write(out,
						"HTTP/1.1 " + status.status() + " Error\r\nContent-Type: application/json\r\nContent-Length: "
								+ body.length + "\r\nConnection: close\r\n\r\n");
				out.write(body);
				out.flush();
			}
			case Behaviour.Stream stream -> {
				head(out);
				// as Azure OpenAI starts: a chunk without choices
				write(out, "data: {\"choices\":[],\"prompt_filter_results\":[]}\n\n");
				for (int i = 0; stream.tokens() < 0 || i < stream.tokens(); i++) {
					token(out, exchange, i);
					Thread.sleep(stream.interval());
				}
				// as vLLM ends: the last text comes with the finish
				write(out,
						"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"!\"},\"finish_reason\":\"stop\"}]}\n\n");
				write(out, "data: [DONE]\n\n");
			}
			case Behaviour.Malformed malformed -> {
				head(out);
				token(out, exchange, 0);
				write(out, "data: {\"choices\":[{\"delta\":{\"content\":\n\n");
				Thread.sleep(Duration.ofSeconds(30));
			}
			case Behaviour.Truncated truncated -> {
				head(out);
				for (int i = 0; i < truncated.tokens(); i++) {
					token(out, exchange, i);
				}
			}
			case Behaviour.Stall stall -> {
				head(out);
				for (int i = 0; i < stall.tokens(); i++) {
					token(out, exchange, i);
				}
				Thread.sleep(Duration.ofMinutes(5));
			}
		}
	}

	private static void head(OutputStream out) throws IOException {
		// no length, connection close: the body runs until the server closes it
		write(out, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
				+ "Connection: close\r\n\r\n");
	}

	private static void token(OutputStream out, Exchange exchange, int index) throws IOException {
		write(out, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
				+ "{\"content\":\"" + (index == 0 ? "" : " ") + "t" + index + "\"},\"finish_reason\":null}]}\n\n");
		exchange.sent.incrementAndGet();
	}

	private static void write(OutputStream out, String text) throws IOException {
		out.write(text.getBytes(StandardCharsets.UTF_8));
		out.flush();
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
