package io.stopline.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/** A frontend's view of one gateway, as one user: plain HTTP with a bearer token. */
final class Api {

	private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
	static final JsonMapper JSON = JsonMapper.builder().build();

	/**
	 * Every response, when a test wants them (the OpenAPI contract test validates them).
	 */
	static volatile java.util.function.Consumer<Recorded> recorder = recorded -> {
	};

	private final String baseUrl;

	private final String token;

	private final String userId;

	/**
	 * Where this client's streams and stops are logged, when a test checks invariants.
	 */
	private final io.stopline.testing.OperationLog log;

	private Api(String baseUrl, String token, String userId) {
		this(baseUrl, token, userId, null);
	}

	private Api(String baseUrl, String token, String userId, io.stopline.testing.OperationLog log) {
		this.baseUrl = baseUrl;
		this.token = token;
		this.userId = userId;
		this.log = log;
	}

	/**
	 * The same client, logging every streaming chat it starts (each event as it arrives)
	 * and every stop with its answer into {@code log}, for the {@code InvariantChecker}.
	 */
	Api recordingInto(io.stopline.testing.OperationLog log) {
		return new Api(baseUrl, token, userId, log);
	}

	String token() {
		return token;
	}

	String userId() {
		return userId;
	}

	/** The same client without logging (a checker's probe must not log its own reads). */
	Api plain() {
		return new Api(baseUrl, token, userId, null);
	}

	/** The same user through another gateway. */
	Api at(String otherBaseUrl) {
		return new Api(otherBaseUrl, token, userId, log);
	}

	static Api forUser(String baseUrl, String user) {
		Response response = send(baseUrl, null, "POST", "/v1/auth/dev-token", Map.of("user", user));
		if (response.status() != 200) {
			throw new IllegalStateException("no dev token: " + response);
		}
		return new Api(baseUrl, response.json().get("token").asString(), user);
	}

	static Api forAdmin(String baseUrl, String user) {
		Response response = send(baseUrl, null, "POST", "/v1/auth/dev-token",
				Map.of("user", user, "roles", java.util.List.of("admin")));
		if (response.status() != 200) {
			throw new IllegalStateException(
					"no admin dev token (the gateway needs stopline.auth.dev-tokens.allow-roles=true): " + response);
		}
		return new Api(baseUrl, response.json().get("token").asString(), user);
	}

	Response get(String path) {
		return send(baseUrl, token, "GET", path, null);
	}

	/** {@code POST path} with a JSON body (null: none). */
	Response post(String path, Object body) {
		return send(baseUrl, token, "POST", path, body);
	}

	static Api withToken(String baseUrl, String token) {
		return new Api(baseUrl, token, "unknown");
	}

	/**
	 * {@code POST /v1/stream-tickets}: a single-use ticket for this conversation's
	 * socket.
	 */
	Response streamTicket(String conversationId) {
		return send(baseUrl, token, "POST", "/v1/stream-tickets", Map.of("conversation_id", conversationId));
	}

	Response stop(String conversationId) {
		if (log == null) {
			return send(baseUrl, token, "POST", "/v1/conversation/" + conversationId + "/stop", null);
		}
		String turn = log.latestTurn(conversationId);
		log.record(conversationId, turn, io.stopline.testing.OperationLog.Kind.STOP, "");
		Response answer;
		try {
			answer = send(baseUrl, token, "POST", "/v1/conversation/" + conversationId + "/stop", null);
		}
		catch (RuntimeException ex) {
			log.record(conversationId, turn, io.stopline.testing.OperationLog.Kind.STOP_ANSWER, "-1");
			throw ex;
		}
		log.record(conversationId, turn, io.stopline.testing.OperationLog.Kind.STOP_ANSWER,
				Integer.toString(answer.status()));
		return answer;
	}

	/** A stop with a body: {@code run_id}, {@code seen_tokens}. */
	Response stop(String conversationId, Map<String, Object> body) {
		return send(baseUrl, token, "POST", "/v1/conversation/" + conversationId + "/stop", body);
	}

	Response pause(String conversationId) {
		return send(baseUrl, token, "POST", "/v1/conversation/" + conversationId + "/pause", null);
	}

	Response resume(String conversationId) {
		return send(baseUrl, token, "POST", "/v1/conversation/" + conversationId + "/resume", null);
	}

	Response stopAll() {
		return send(baseUrl, token, "POST", "/v1/conversations/stop", null);
	}

	Response stopOnly(List<String> conversationIds) {
		return send(baseUrl, token, "POST", "/v1/conversations/stop", Map.of("conversation_ids", conversationIds));
	}

	Response active() {
		return send(baseUrl, token, "GET", "/v1/conversations/active", null);
	}

	Response history(String conversationId) {
		return send(baseUrl, token, "GET", "/v1/conversation/" + conversationId, null);
	}

	Response chat(String conversationId, int maxTokens) {
		return send(baseUrl, token, "POST", "/v1/chat/completions", chatBody(conversationId, maxTokens, false));
	}

	/**
	 * Starts a streaming chat; its server-sent events arrive in the returned stream's
	 * queue.
	 */
	ChatStream chatStream(String conversationId, int maxTokens) {
		return chatStream(conversationId, maxTokens, Map.of());
	}

	/** As {@link #chatStream(String, int)}, with extra request fields. */
	ChatStream chatStream(String conversationId, int maxTokens, Map<String, Object> extra) {
		Map<String, Object> body = new java.util.LinkedHashMap<>(chatBody(conversationId, maxTokens, true));
		body.putAll(extra);
		HttpRequest request = request(baseUrl, token, "POST", "/v1/chat/completions", body);
		ChatStream stream = new ChatStream();
		if (log != null) {
			String turn = log.nextTurn(conversationId);
			log.record(conversationId, turn, io.stopline.testing.OperationLog.Kind.SEND, turn);
			stream.streamLog = new StreamRecorder(log, conversationId, turn);
		}
		Thread.ofVirtual().start(() -> stream.read(request));
		return stream;
	}

	/**
	 * {@code GET /v1/conversation/{id}/runs/{runId}/stream}: a run's chat stream resumed
	 * after {@code lastEventId} (null: from the start), with this user's token.
	 */
	ChatStream resumeStream(String conversationId, String runId, String lastEventId) {
		HttpRequest.Builder builder = HttpRequest
			.newBuilder(URI.create(baseUrl + "/v1/conversation/" + conversationId + "/runs/" + runId + "/stream"))
			.timeout(Duration.ofSeconds(60))
			.header("Authorization", "Bearer " + token);
		if (lastEventId != null) {
			builder.header("Last-Event-ID", lastEventId);
		}
		ChatStream stream = new ChatStream();
		HttpRequest request = builder.GET().build();
		Thread.ofVirtual().start(() -> stream.read(request));
		return stream;
	}

	Response raw(String method, String path, String body, Map<String, String> headers) {
		HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(baseUrl + path))
			.timeout(Duration.ofSeconds(30))
			.method(method,
					body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
		headers.forEach(builder::header);
		return execute(builder.build());
	}

	private static Map<String, Object> chatBody(String conversationId, int maxTokens, boolean stream) {
		return Map.of("model", "assistant", "stream", stream, "max_tokens", maxTokens, "conversation_id",
				conversationId, "messages", List.of(Map.of("role", "user", "content", "Tell me a story")));
	}

	private static Response send(String baseUrl, String token, String method, String path, Object body) {
		return execute(request(baseUrl, token, method, path, body));
	}

	private static HttpRequest request(String baseUrl, String token, String method, String path, Object body) {
		HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(baseUrl + path))
			.timeout(Duration.ofSeconds(60))
			.header("Content-Type", "application/json")
			.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
					: HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
		if (token != null) {
			builder.header("Authorization", "Bearer " + token);
		}
		return builder.build();
	}

	private static Response execute(HttpRequest request) {
		try {
			HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
			recorder.accept(new Recorded(request.method(), request.uri().getPath(), response.statusCode(),
					response.headers().firstValue("Content-Type").orElse(""), response.body()));
			return new Response(response.statusCode(), response.body(),
					response.headers().firstValue("Content-Type").orElse(""),
					response.headers().firstValue("X-Conversation-Id").orElse(null),
					response.headers().firstValue("Retry-After").orElse(null));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * A response as sent: the body is null for a stream (its events are checked one by
	 * one).
	 */
	record Recorded(String method, String path, int status, String contentType, String body) {
	}

	record Response(int status, String body, String contentType, String conversationId, String retryAfter) {

		JsonNode json() {
			return JSON.readTree(body);
		}
	}

	/**
	 * The events of a streaming chat: each {@code data:} payload, {@code [DONE]}
	 * included.
	 */
	static final class ChatStream {

		final BlockingQueue<String> events = new LinkedBlockingQueue<>();

		/**
		 * The SSE id of each event in {@link #events}, in the same order (null: none).
		 */
		final List<String> ids = java.util.Collections.synchronizedList(new ArrayList<>());

		volatile int status;

		volatile boolean closed;

		private volatile java.io.InputStream body;

		private int taken;

		/** The client goes away (closes its end of the connection). */
		void disconnect() {
			java.io.InputStream current = body;
			if (current != null) {
				try {
					current.close();
				}
				catch (IOException ex) {
					// gone already
				}
			}
		}

		/** Logs each event as it arrives, when the client records. */
		private volatile StreamRecorder streamLog;

		private void add(String event) {
			events.add(event);
			StreamRecorder logging = streamLog;
			if (logging != null) {
				logging.record(event, status);
			}
		}

		private void read(HttpRequest request) {
			try {
				HttpResponse<java.io.InputStream> response = HTTP.send(request,
						HttpResponse.BodyHandlers.ofInputStream());
				status = response.statusCode();
				recorder.accept(new Recorded(request.method(), request.uri().getPath(), status,
						response.headers().firstValue("Content-Type").orElse(""), null));
				body = response.body();
				try (BufferedReader reader = new BufferedReader(
						new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
					String line;
					String id = null;
					while ((line = reader.readLine()) != null) {
						if (line.startsWith("id: ")) {
							id = line.substring(4);
						}
						else if (line.startsWith("data: ")) {
							ids.add(id);
							add(line.substring(6));
							id = null;
						}
						else if (!line.isBlank() && status != 200) {
							add(line);
						}
					}
				}
			}
			catch (IOException | InterruptedException ex) {
				add("error: " + ex);
			}
			finally {
				StreamRecorder logging = streamLog;
				if (logging != null) {
					logging.broken();
				}
				closed = true;
			}
		}

		/**
		 * Every event until {@code [DONE]} (each waited for within the bound),
		 * {@code [DONE]} included.
		 */
		List<String> drain(Duration bound) throws InterruptedException {
			List<String> drained = new ArrayList<>();
			String event;
			while ((event = next(bound)) != null) {
				drained.add(event);
				if (event.equals("[DONE]")) {
					break;
				}
			}
			assertThat(drained).as("the stream ended").endsWith("[DONE]");
			return drained;
		}

		/** The next event within the bound, or null. */
		String next(Duration bound) throws InterruptedException {
			String event = events.poll(bound.toMillis(), TimeUnit.MILLISECONDS);
			if (event != null) {
				taken++;
			}
			return event;
		}

		/** The SSE id of the event {@link #next} returned last. */
		String idOfLast() {
			return ids.get(taken - 1);
		}

	}

}
