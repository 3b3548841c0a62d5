package io.stopline.worker.model;

import java.io.IOException;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import okhttp3.Call;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.ForwardingSource;
import okio.Okio;
import okio.Source;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.context.Context;

import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;
import org.springframework.web.reactive.function.client.ExchangeFunction;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * The HTTP calls of the runs in flight, so that a stop closes its run's connection at
 * once even while the upstream is silent, which disposing Spring AI's stream does not do:
 * <ul>
 * <li>through an OkHttp-based SDK (Spring AI's Anthropic and OpenAI clients) the
 * interceptor finds a run's call by a header its request carries, and a stop cancels the
 * call, which closes the socket. The SDKs' own close waits for their reader, which holds
 * the body's lock while blocked on the socket: until the upstream's next write, ~18 ms
 * into a 20 ms token interval, never on a silent upstream;</li>
 * <li>through a {@link WebClient} (Spring AI's Ollama client) the filter finds the run in
 * the subscriber's Reactor context and ends the response body when the run stops, which
 * makes Reactor Netty close the connection; it also holds the body to the run's pace
 * ({@link ReadAhead}). A cancelled subscription does not reach the body while an empty
 * window of the client's {@code windowUntil} is still open: the connection stayed open
 * until the upstream wrote again.</li>
 * </ul>
 */
final class UpstreamCalls implements Interceptor, ExchangeFilterFunction {

	static final String HEADER = "X-Stopline-Call";

	private final Map<String, Run> runs = new ConcurrentHashMap<>();

	/** A run's handle, opened before its request is made. */
	Run open() {
		Run run = new Run(UUID.randomUUID().toString());
		runs.put(run.id, run);
		return run;
	}

	@Override
	public Response intercept(Chain chain) throws IOException {
		Request request = chain.request();
		String id = request.header(HEADER);
		if (id == null) {
			return chain.proceed(request);
		}
		Run run = runs.get(id);
		if (run == null || !run.attach(chain.call())) {
			throw new IOException("Canceled: the run ended before its request was sent");
		}
		// the header is ours, not the upstream's
		Response response = chain.proceed(request.newBuilder().removeHeader(HEADER).build());
		ResponseBody body = response.body();
		return (body == null) ? response
				: response.newBuilder()
					.body(ResponseBody.create(Okio.buffer(new EndsWithTheRun(body.source(), run)), body.contentType(),
							body.contentLength()))
					.build();
	}

	/**
	 * A body whose read, failing because the run's stop closed the socket, ends instead:
	 * the stopped stream then ends quietly, where the failure would be logged as an error
	 * three times over by the SDK, Spring AI and Reactor (its subscriber is gone).
	 */
	private static final class EndsWithTheRun extends ForwardingSource {

		private final Run run;

		EndsWithTheRun(Source body, Run run) {
			super(body);
			this.run = run;
		}

		@Override
		public long read(Buffer sink, long count) throws IOException {
			try {
				return super.read(sink, count);
			}
			catch (IOException ex) {
				if (run.stopped()) {
					return -1;
				}
				throw ex;
			}
		}

	}

	@Override
	public Mono<ClientResponse> filter(ClientRequest request, ExchangeFunction next) {
		return Mono.deferContextual(context -> {
			Run run = context.getOrDefault(Run.class, null);
			Mono<ClientResponse> response = next.exchange(request);
			return (run == null) ? response
					: response.map(answer -> answer.mutate()
						.body(body -> body.delayUntil(run.readAhead::admit).takeUntilOther(run.ended.asMono()))
						.build());
		});
	}

	/** One run's call. */
	final class Run {

		private final String id;

		private final Sinks.Empty<Void> ended = Sinks.empty();

		private final ReadAhead readAhead = new ReadAhead();

		private @Nullable Call call;

		private boolean closed;

		private boolean stopped;

		private Run(String id) {
			this.id = id;
		}

		/** How far a WebClient body may be read ahead of what the run took. */
		ReadAhead readAhead() {
			return readAhead;
		}

		/** The Reactor context that ties the run's WebClient response to this handle. */
		Context context() {
			return Context.of(Run.class, this);
		}

		/** The header that ties the run's OkHttp request to this handle. */
		Map<String, String> headers() {
			return Map.of(HEADER, id);
		}

		private synchronized boolean stopped() {
			return stopped;
		}

		private synchronized boolean attach(Call call) {
			this.call = call;
			return !closed;
		}

		/**
		 * Ends the run's call: after a complete stream it only forgets it (the connection
		 * stays reusable); otherwise (stop, failure) it closes the socket.
		 */
		void close(boolean complete) {
			Call current;
			synchronized (this) {
				closed = true;
				stopped = !complete;
				current = call;
			}
			runs.remove(id);
			if (!complete) {
				ended.tryEmitEmpty();
				if (current != null) {
					current.cancel();
				}
			}
		}

	}

}
