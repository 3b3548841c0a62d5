package io.stopline.it;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A WebSocket client of {@code /v1/conversation/{id}/stream} (the JDK's): collects the
 * events and the close code.
 */
final class StreamClient implements AutoCloseable {

	private static final HttpClient HTTP = HttpClient.newHttpClient();

	private final BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();

	private final CompletableFuture<Integer> closed = new CompletableFuture<>();

	private WebSocket socket;

	/** Authenticated by the bearer header. */
	static StreamClient withHeader(String gatewayUrl, String conversationId, String token) {
		return open(gatewayUrl, conversationId, null, token);
	}

	static StreamClient withoutToken(String gatewayUrl, String conversationId) {
		return open(gatewayUrl, conversationId, null, null);
	}

	/** Authenticated by the {@code token} query parameter, as a browser must. */
	static StreamClient withQueryToken(String gatewayUrl, String conversationId, String token) {
		return open(gatewayUrl, conversationId, token, null);
	}

	/**
	 * Authenticated by a ticket from {@code POST /v1/stream-tickets}, as the page does.
	 */
	static StreamClient withTicket(String gatewayUrl, String conversationId, String ticket) {
		return open(gatewayUrl, conversationId, "ticket", ticket, null);
	}

	private static StreamClient open(String gatewayUrl, String conversationId, String queryToken, String headerToken) {
		return open(gatewayUrl, conversationId, "token", queryToken, headerToken);
	}

	private static StreamClient open(String gatewayUrl, String conversationId, String queryName, String queryValue,
			String headerToken) {
		StreamClient client = new StreamClient();
		String url = gatewayUrl.replaceFirst("^http", "ws") + "/v1/conversation/" + conversationId + "/stream"
				+ (queryValue == null ? ""
						: "?" + queryName + "=" + URLEncoder.encode(queryValue, StandardCharsets.UTF_8));
		WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
		if (headerToken != null) {
			builder.header("Authorization", "Bearer " + headerToken);
		}
		client.socket = builder.buildAsync(URI.create(url), client.new Listener()).join();
		return client;
	}

	/** The next event within the bound, or null. */
	JsonNode next(Duration bound) throws InterruptedException {
		return events.poll(bound.toMillis(), TimeUnit.MILLISECONDS);
	}

	/**
	 * The next event of this type, skipping others; fails when none comes within the
	 * bound.
	 */
	JsonNode nextOfType(String type, Duration bound) throws InterruptedException {
		long deadline = System.nanoTime() + bound.toNanos();
		while (true) {
			long left = deadline - System.nanoTime();
			JsonNode event = left > 0 ? events.poll(left, TimeUnit.NANOSECONDS) : null;
			assertThat(event).as("a %s event within %s", type, bound).isNotNull();
			if (type.equals(event.get("type").asString())) {
				return event;
			}
		}
	}

	/** The close code the server sent, or -1 when it did not close within the bound. */
	int closeCode(Duration bound) {
		try {
			return closed.get(bound.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (Exception ex) {
			return -1;
		}
	}

	boolean isOpen() {
		return !closed.isDone() && !socket.isInputClosed();
	}

	@Override
	public void close() {
		if (!socket.isOutputClosed()) {
			socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
		}
		socket.abort();
	}

	private final class Listener implements WebSocket.Listener {

		private final StringBuilder partial = new StringBuilder();

		@Override
		public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
			partial.append(data);
			if (last) {
				events.add(Api.JSON.readTree(partial.toString()));
				partial.setLength(0);
			}
			webSocket.request(1);
			return null;
		}

		@Override
		public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
			closed.complete(statusCode);
			return null;
		}

		@Override
		public void onError(WebSocket webSocket, Throwable error) {
			closed.complete(-2);
		}

	}

}
