package io.stopline.worker.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.stopline.protocol.StartRun;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Streams a chat completion from an OpenAI-compatible server (OpenAI, vLLM, Ollama,
 * llama.cpp server) with the JDK's {@link HttpClient}: no extra dependency, and its
 * reactive body lets us pull the stream one chunk at a time. That pull is what makes both
 * cancellation and pause work: a stop cancels the body subscription, which closes the
 * connection at once (HTTP/1.1, so the upstream sees its client go and stops generating);
 * a pause simply stops pulling, and TCP flow control holds the upstream back.
 */
final class OpenAiCompatibleModel implements ChatModel {

	private static final Logger log = LoggerFactory.getLogger(OpenAiCompatibleModel.class);

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final int MAX_LINE = 1 << 20;

	private final ModelProperties.Upstream upstream;

	private final HttpClient client;

	private final URI endpoint;

	OpenAiCompatibleModel(ModelProperties.Upstream upstream, HttpClient client) {
		this.upstream = upstream;
		this.client = client;
		String base = upstream.baseUrl().toString();
		this.endpoint = URI.create((base.endsWith("/") ? base : base + "/") + "chat/completions");
	}

	@Override
	public void generate(StartRun request, TokenSink sink) throws InterruptedException {
		respond(request, List.of(), List.of(), sink);
	}

	/**
	 * With tools, the request carries them ({@code tools}) and the earlier rounds (the
	 * assistant's {@code tool_calls} and a {@code tool} message per result); the stream's
	 * {@code tool_calls} deltas are put together by their {@code index}.
	 */
	@Override
	public List<ToolRequest> respond(StartRun request, List<ToolDefinition> tools, List<ToolRound> rounds,
			TokenSink sink) throws InterruptedException {
		ChunkPuller body = new ChunkPuller();
		ToolCallDeltas calls = new ToolCallDeltas();
		try {
			// ofPublisher: send returns with the headers, and the body is pulled from
			// here
			HttpResponse<Flow.Publisher<List<ByteBuffer>>> response = client.send(httpRequest(request, tools, rounds),
					HttpResponse.BodyHandlers.ofPublisher());
			response.body().subscribe(body);
			if (response.statusCode() / 100 != 2) {
				String detail = body.readSome(upstream.readTimeout(), 512);
				log.warn("upstream {} answered HTTP {}: {}", endpoint, response.statusCode(), detail);
				throw new ModelFailure("The model provider answered HTTP " + response.statusCode() + ".");
			}
			stream(body, sink, calls);
			return calls.requests();
		}
		catch (HttpConnectTimeoutException | ConnectException ex) {
			throw new ModelFailure("The model provider could not be reached.", ex);
		}
		catch (HttpTimeoutException ex) {
			throw new ModelFailure("The model provider did not answer within " + upstream.readTimeout() + ".", ex);
		}
		catch (IOException ex) {
			if (Thread.currentThread().isInterrupted()) {
				throw new InterruptedException();
			}
			throw new ModelFailure("The connection to the model provider failed.", ex);
		}
		finally {
			// after a drained stream a no-op; otherwise (stop, failure, a server that
			// keeps the body open after [DONE]) it closes the connection now
			body.cancel();
			sink.upstreamClosed();
		}
	}

	private void stream(ChunkPuller body, TokenSink sink, ToolCallDeltas calls)
			throws InterruptedException, IOException {
		ByteArrayOutputStream line = new ByteArrayOutputStream();
		boolean finished = false;
		List<ByteBuffer> chunk;
		while ((chunk = body.next(upstream.readTimeout())) != null) {
			for (ByteBuffer buffer : chunk) {
				while (buffer.hasRemaining()) {
					byte b = buffer.get();
					if (b != '\n') {
						if (line.size() >= MAX_LINE) {
							throw new ModelFailure("The model provider sent a malformed stream.");
						}
						line.write(b);
						continue;
					}
					String text = line.toString(StandardCharsets.UTF_8).strip();
					line.reset();
					Event event = parse(text);
					calls.add(event.toolCalls());
					if (accept(event, sink)) {
						drainRest(body);
						return;
					}
					finished |= event.finished();
				}
			}
		}
		// a last line without its newline still counts
		String last = line.toString(StandardCharsets.UTF_8).strip();
		if (!last.isEmpty()) {
			Event event = parse(last);
			calls.add(event.toolCalls());
			if (accept(event, sink) || event.finished()) {
				return;
			}
		}
		if (!finished) {
			throw new ModelFailure("The model provider's stream ended before the answer was complete.");
		}
	}

	/** Hands a token on; true at {@code [DONE]}. */
	private static boolean accept(Event event, TokenSink sink) throws InterruptedException {
		if (event.token() != null && !event.token().isEmpty()) {
			sink.accept(event.token());
		}
		return event.done();
	}

	/**
	 * Reads what follows {@code [DONE]} (normally just the end of the body), briefly, so
	 * the connection ends cleanly and can be reused for the next run.
	 */
	private static void drainRest(ChunkPuller body) {
		try {
			for (int i = 0; i < 8 && body.next(DRAIN_WAIT) != null; i++) {
				// nothing should follow [DONE]
			}
		}
		catch (IOException | ModelFailure | InterruptedException ex) {
			if (ex instanceof InterruptedException) {
				Thread.currentThread().interrupt();
			}
		}
	}

	private static final Duration DRAIN_WAIT = Duration.ofMillis(200);

	/**
	 * One server-sent event line, as far as a chat completion stream goes: a token (the
	 * last one may come with the finish), the finish, or {@code [DONE]}.
	 */
	private record Event(@Nullable String token, boolean finished, boolean done, @Nullable JsonNode toolCalls) {

		static final Event NOTHING = new Event(null, false, false, null);

		static final Event DONE = new Event(null, true, true, null);

	}

	/** The {@code tool_calls} deltas of one turn, put together by {@code index}. */
	private static final class ToolCallDeltas {

		private final Map<Integer, String[]> calls = new java.util.TreeMap<>();

		void add(@Nullable JsonNode deltas) {
			if (deltas == null || !deltas.isArray()) {
				return;
			}
			for (JsonNode delta : deltas) {
				String[] call = calls.computeIfAbsent(delta.path("index").asInt(calls.size()),
						index -> new String[] { "", "", "" });
				JsonNode function = delta.path("function");
				call[0] = delta.path("id").isString() ? delta.path("id").asString() : call[0];
				call[1] += function.path("name").isString() ? function.path("name").asString() : "";
				call[2] += function.path("arguments").isString() ? function.path("arguments").asString() : "";
			}
		}

		List<ToolRequest> requests() {
			return calls.entrySet()
				.stream()
				.map(entry -> new ToolRequest(
						entry.getValue()[0].isEmpty() ? "call_" + entry.getKey() : entry.getValue()[0],
						entry.getValue()[1], entry.getValue()[2].isEmpty() ? "{}" : entry.getValue()[2]))
				.toList();
		}

	}

	private static Event parse(String line) {
		if (line.isEmpty() || line.startsWith(":") || !line.startsWith("data:")) {
			// blank separators, comments, event:/id:/retry: fields
			return Event.NOTHING;
		}
		String data = line.substring("data:".length()).strip();
		if ("[DONE]".equals(data)) {
			return Event.DONE;
		}
		JsonNode node;
		try {
			node = JSON.readTree(data);
		}
		catch (JacksonException ex) {
			throw new ModelFailure("The model provider sent a malformed stream.", ex);
		}
		if (node.has("error")) {
			log.warn("upstream reported an error: {}", node.get("error"));
			throw new ModelFailure("The model provider reported an error.");
		}
		if (!node.isObject()) {
			throw new ModelFailure("The model provider sent a malformed stream.");
		}
		// no choices: Azure's prompt-filter chunk, a usage chunk; nothing to show
		JsonNode choice = node.path("choices").path(0);
		JsonNode content = choice.path("delta").path("content");
		JsonNode finish = choice.path("finish_reason");
		boolean finished = !finish.isMissingNode() && !finish.isNull();
		JsonNode toolCalls = choice.path("delta").path("tool_calls");
		return new Event(content.isString() ? content.asString() : null, finished, false,
				toolCalls.isArray() ? toolCalls : null);
	}

	private HttpRequest httpRequest(StartRun request, List<ToolDefinition> tools, List<ToolRound> rounds) {
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("model", upstream.model());
		body.put("stream", true);
		body.put("max_tokens", request.maxTokens());
		List<Object> messages = new java.util.ArrayList<>();
		request.messages()
			.forEach(message -> messages.add(Map.of("role", message.role(), "content", message.content())));
		for (ToolRound round : rounds) {
			messages.add(Map.of("role", "assistant", "tool_calls",
					round.requests()
						.stream()
						.map(call -> Map.of("id", call.id(), "type", "function", "function",
								Map.of("name", call.name(), "arguments", call.arguments())))
						.toList()));
			for (int i = 0; i < round.requests().size(); i++) {
				messages.add(Map.of("role", "tool", "tool_call_id", round.requests().get(i).id(), "content",
						round.results().get(i)));
			}
		}
		body.put("messages", messages);
		if (!tools.isEmpty()) {
			body.put("tools",
					tools.stream()
						.map(tool -> Map.of("type", "function", "function",
								Map.of("name", tool.name(), "description", tool.description(), "parameters",
										tool.parameters())))
						.toList());
		}
		HttpRequest.Builder builder = HttpRequest.newBuilder(endpoint)
			.timeout(upstream.readTimeout())
			.header("Content-Type", "application/json")
			.header("Accept", "text/event-stream")
			.POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
		if (upstream.apiKey() != null && !upstream.apiKey().isBlank()) {
			builder.header("Authorization", "Bearer " + upstream.apiKey());
		}
		return builder.build();
	}

	/**
	 * The response body, pulled one chunk at a time: the next chunk is requested only
	 * when the previous one was taken, so a reader that stops taking (a paused run) stops
	 * the download.
	 */
	static final class ChunkPuller implements Flow.Subscriber<List<ByteBuffer>> {

		private static final Object END = new Object();

		private final BlockingQueue<Object> items = new LinkedBlockingQueue<>();

		private volatile Flow.@Nullable Subscription subscription;

		private volatile boolean cancelled;

		@Override
		public void onSubscribe(Flow.Subscription subscription) {
			this.subscription = subscription;
			if (cancelled) {
				subscription.cancel();
			}
			else {
				subscription.request(1);
			}
		}

		@Override
		public void onNext(List<ByteBuffer> item) {
			items.add(item);
		}

		@Override
		public void onError(Throwable error) {
			items.add(error);
		}

		@Override
		public void onComplete() {
			items.add(END);
		}

		/**
		 * The next chunk, null at the end of the body; fails when nothing arrives within
		 * {@code timeout}.
		 */
		@SuppressWarnings("unchecked")
		@Nullable List<ByteBuffer> next(Duration timeout) throws InterruptedException, IOException {
			Object item = items.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
			if (item == null) {
				throw new ModelFailure("The model provider stalled: nothing arrived for " + timeout + ".");
			}
			if (item == END) {
				return null;
			}
			if (item instanceof Throwable error) {
				throw new IOException(error);
			}
			Flow.Subscription current = subscription;
			if (current != null) {
				current.request(1);
			}
			return (List<ByteBuffer>) item;
		}

		/** Up to {@code limit} bytes of the body as text, for an error's log line. */
		String readSome(Duration timeout, int limit) throws InterruptedException {
			ByteArrayOutputStream text = new ByteArrayOutputStream();
			try {
				List<ByteBuffer> chunk;
				while (text.size() < limit && (chunk = next(timeout)) != null) {
					for (ByteBuffer buffer : chunk) {
						byte[] bytes = new byte[Math.min(buffer.remaining(), limit - text.size())];
						buffer.get(bytes);
						text.writeBytes(bytes);
					}
				}
			}
			catch (IOException | ModelFailure ex) {
				// what we have is enough for a log line
			}
			return text.toString(StandardCharsets.UTF_8).replaceAll("\\s+", " ").strip();
		}

		void cancel() {
			cancelled = true;
			Flow.Subscription current = subscription;
			if (current != null) {
				current.cancel();
			}
		}

	}

}
