package io.stopline.bench;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.apache.hc.client5.http.async.methods.SimpleHttpRequest;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.core5.concurrent.FutureCallback;
import org.apache.hc.core5.http2.HttpVersionPolicy;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.reactor.IOReactorConfig;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * The open-loop load's client: Apache HttpClient 5 async over HTTP/1.1, one I/O reactor
 * thread and a pool of keep-alive connections. A request costs the load generator a few
 * tens of microseconds of CPU instead of a virtual thread blocking on a socket per
 * request (0.4-0.7 ms of CPU per request on this machine), so at high rates the two cores
 * go to the cluster under test rather than to the client.
 */
final class AsyncApi implements AutoCloseable {

	private final CloseableHttpAsyncClient client;

	private final String baseUrl;

	AsyncApi(String baseUrl, int connections) {
		this.baseUrl = baseUrl;
		this.client = client(connections, Timeout.ofSeconds(60));
	}

	/**
	 * An HTTP/1.1 async client with one I/O reactor thread and {@code connections}
	 * keep-alive connections, started: the load generator's only kind of client (the
	 * streaming profile's SSE streams use it too, with a longer socket timeout).
	 */
	static CloseableHttpAsyncClient client(int connections, Timeout socketTimeout) {
		CloseableHttpAsyncClient client = HttpAsyncClients.custom()
			.setIOReactorConfig(IOReactorConfig.custom()
				.setIoThreadCount(1)
				.setTcpNoDelay(true)
				.setSoTimeout(socketTimeout)
				.build())
			.setConnectionManager(PoolingAsyncClientConnectionManagerBuilder.create()
				.setMaxConnTotal(connections)
				.setMaxConnPerRoute(connections)
				.setDefaultConnectionConfig(ConnectionConfig.custom()
					.setConnectTimeout(Timeout.ofSeconds(5))
					.setSocketTimeout(socketTimeout)
					.setTimeToLive(1, TimeUnit.HOURS)
					.build())
				.build())
			.setVersionPolicy(HttpVersionPolicy.FORCE_HTTP_1)
			.disableAutomaticRetries()
			.disableRedirectHandling()
			.disableCookieManagement()
			.disableAuthCaching()
			.disableConnectionState()
			.build();
		client.start();
		return client;
	}

	/** The status of a POST, once answered; -1 when it failed. */
	CompletableFuture<Integer> post(String token, String path) {
		return execute(SimpleRequestBuilder.post(baseUrl + path).addHeader("Authorization", "Bearer " + token).build());
	}

	/** The status of a POST with a JSON body, once answered; -1 when it failed. */
	CompletableFuture<Integer> post(String token, String path, String json) {
		return execute(SimpleRequestBuilder.post(baseUrl + path)
			.addHeader("Authorization", "Bearer " + token)
			.setBody(json, org.apache.hc.core5.http.ContentType.APPLICATION_JSON)
			.build());
	}

	CompletableFuture<Integer> get(String token, String path) {
		return execute(SimpleRequestBuilder.get(baseUrl + path).addHeader("Authorization", "Bearer " + token).build());
	}

	/** The status and body of a POST, once answered; status -1 when it failed. */
	CompletableFuture<Api.Answer> postForAnswer(String token, String path) {
		return execute(SimpleRequestBuilder.post(baseUrl + path).addHeader("Authorization", "Bearer " + token).build(),
				response -> new Api.Answer(response.getCode(), response.getBodyText()), new Api.Answer(-1, ""));
	}

	private CompletableFuture<Integer> execute(SimpleHttpRequest request) {
		return execute(request, SimpleHttpResponse::getCode, -1);
	}

	/**
	 * {@code read} of the answer once it came; {@code failed} when the request failed.
	 */
	private <T> CompletableFuture<T> execute(SimpleHttpRequest request, Function<SimpleHttpResponse, T> read,
			T failed) {
		CompletableFuture<T> answer = new CompletableFuture<>();
		client.execute(request, new FutureCallback<SimpleHttpResponse>() {
			@Override
			public void completed(SimpleHttpResponse response) {
				answer.complete(read.apply(response));
			}

			@Override
			public void failed(Exception ex) {
				answer.complete(failed);
			}

			@Override
			public void cancelled() {
				answer.complete(failed);
			}
		});
		return answer;
	}

	@Override
	public void close() {
		shutDown(client);
	}

	/**
	 * Shuts an async client down, then closes it: closed at once while its reactor still
	 * ran, it logged a ClosedSelectorException per reactor thread.
	 */
	static void shutDown(CloseableHttpAsyncClient client) {
		client.initiateShutdown();
		try {
			client.awaitShutdown(TimeValue.ofSeconds(2));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		client.close(CloseMode.IMMEDIATE);
	}

}
