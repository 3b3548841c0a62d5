package io.stopline.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.CharBuffer;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.hc.client5.http.async.methods.AbstractCharResponseConsumer;
import org.apache.hc.client5.http.async.methods.SimpleHttpRequest;
import org.apache.hc.client5.http.async.methods.SimpleRequestProducer;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.core5.concurrent.FutureCallback;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.util.Timeout;

/**
 * The streaming profile's clients: SSE streams read by one I/O reactor thread (Apache
 * HttpClient 5 async, no thread per stream) and WebSocket watchers on the JDK client.
 * Every token the simulated model emits is its emission time in epoch microseconds
 * ({@code stopline.model.simulated.clock-tokens}), so each delivered token gives one
 * emit-to-client latency sample, on one clock.
 */
final class StreamClients implements AutoCloseable {

	private final CloseableHttpAsyncClient client;

	private final HttpClient webSockets = HttpClient.newHttpClient();

	/** Tokens delivered to SSE clients, and WebSocket token deliveries, since reset. */
	final AtomicLong tokens = new AtomicLong();

	final AtomicLong watcherTokens = new AtomicLong();

	/**
	 * Emit-to-client latency of delivered tokens (sampled: every token while recording).
	 */
	volatile Latencies delivery = new Latencies();

	volatile boolean recording;

	final Map<Integer, AtomicLong> errors = new ConcurrentHashMap<>();

	StreamClients(int connections) {
		this.client = AsyncApi.client(connections, Timeout.ofMinutes(5));
	}

	/** One stream: when it started, when its first token came, how it ended. */
	static final class Stream {

		final long sentNanos = System.nanoTime();

		/** The send on the clock tokens' clock (epoch µs). */
		final long sentMicros = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());

		final CompletableFuture<Long> firstToken = new CompletableFuture<>();

		/**
		 * The first token's emission and arrival (epoch µs) when it was a clock token:
		 * what of the start is the run's dispatch and what the first token's delivery.
		 */
		volatile long firstEmittedMicros = -1;

		volatile long firstArrivedMicros = -1;

		final CompletableFuture<Integer> ended = new CompletableFuture<>();

		volatile int status;

	}

	/** POSTs a streaming chat (or GETs a floor stream when {@code body} is null). */
	Stream open(String url, String token, String body) {
		Stream stream = new Stream();
		SimpleHttpRequest request = body == null ? SimpleHttpRequest.create("GET", url)
				: SimpleHttpRequest.create("POST", url);
		if (token != null) {
			request.addHeader("Authorization", "Bearer " + token);
		}
		if (body != null) {
			request.setBody(body, ContentType.APPLICATION_JSON);
		}
		client.execute(SimpleRequestProducer.create(request), new SseConsumer(stream), new FutureCallback<Void>() {
			@Override
			public void completed(Void result) {
				stream.ended.complete(stream.status);
			}

			@Override
			public void failed(Exception ex) {
				stream.ended.complete(-1);
			}

			@Override
			public void cancelled() {
				stream.ended.complete(-1);
			}
		});
		return stream;
	}

	/** A WebSocket watcher of a conversation; counts the token deliveries. */
	CompletableFuture<WebSocket> watch(String wsUrl, String token) {
		return webSockets.newWebSocketBuilder()
			.header("Authorization", "Bearer " + token)
			.buildAsync(URI.create(wsUrl), new WebSocket.Listener() {
				private final StringBuilder text = new StringBuilder();

				@Override
				public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
					text.append(data);
					if (last) {
						if (text.indexOf("\"type\":\"token\"") >= 0) {
							watcherTokens.incrementAndGet();
						}
						text.setLength(0);
					}
					socket.request(1);
					return null;
				}
			});
	}

	void error(int status) {
		errors.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
	}

	private final class SseConsumer extends AbstractCharResponseConsumer<Void> {

		private final Stream stream;

		private final StringBuilder line = new StringBuilder();

		SseConsumer(Stream stream) {
			this.stream = stream;
		}

		@Override
		protected void start(HttpResponse response, ContentType contentType) {
			stream.status = response.getCode();
			if (response.getCode() != 200) {
				error(response.getCode());
			}
		}

		@Override
		protected Void buildResult() {
			return null;
		}

		@Override
		protected int capacityIncrement() {
			return 64 * 1024;
		}

		@Override
		protected void data(CharBuffer src, boolean endOfStream) {
			while (src.hasRemaining()) {
				char c = src.get();
				if (c == '\n') {
					if (!line.isEmpty()) {
						onLine();
					}
					line.setLength(0);
				}
				else {
					line.append(c);
				}
			}
		}

		/** {@code data: {...,"content":" 1767... 1767...",...}}: one sample per token. */
		private void onLine() {
			int at = line.indexOf("\"content\":\"");
			if (at < 0) {
				return;
			}
			int from = at + 11;
			int to = line.indexOf("\"", from);
			if (to <= from) {
				return;
			}
			long now = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
			Latencies samples = delivery;
			// a token is a word (a model without clock tokens counts too, without
			// samples)
			int count = 0;
			long value = -1;
			boolean inWord = false;
			boolean numeric = true;
			for (int i = from; i <= to; i++) {
				char c = i < to ? line.charAt(i) : ' ';
				if (c != ' ') {
					inWord = true;
					numeric &= c >= '0' && c <= '9';
					value = numeric ? (value < 0 ? 0 : value * 10) + (c - '0') : -1;
				}
				else if (inWord) {
					count++;
					if (numeric && value >= 0 && recording) {
						samples.add(TimeUnit.MICROSECONDS.toNanos(Math.max(0, now - value)));
					}
					if (numeric && value >= 0 && stream.firstEmittedMicros < 0) {
						stream.firstArrivedMicros = now;
						stream.firstEmittedMicros = value;
					}
					inWord = false;
					numeric = true;
					value = -1;
				}
			}
			if (count > 0) {
				tokens.addAndGet(count);
				stream.firstToken.complete(System.nanoTime());
			}
		}

		@Override
		public void failed(Exception cause) {
			stream.ended.complete(-1);
		}

		@Override
		public void releaseResources() {
		}

	}

	@Override
	public void close() {
		AsyncApi.shutDown(client);
		// close() would wait for every watcher socket to end
		webSockets.shutdownNow();
	}

}
