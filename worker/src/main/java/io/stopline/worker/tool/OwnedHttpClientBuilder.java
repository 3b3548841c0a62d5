package io.stopline.worker.tool;

import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.InetAddress;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.Executor;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

import org.jspecify.annotations.Nullable;

/**
 * Hands the SDK's Streamable HTTP transport a client builder and keeps the client it
 * builds, so that a run's session can be shut down at once
 * ({@link HttpClient#shutdownNow()} closes every response stream of the session), even
 * when the server never answers the session's {@code DELETE}. The SDK's transport takes a
 * builder, not a client, and does not close its streams when a request is disposed.
 */
final class OwnedHttpClientBuilder implements HttpClient.Builder {

	private final HttpClient.Builder delegate = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1);

	private volatile @Nullable HttpClient built;

	@Nullable HttpClient built() {
		return built;
	}

	@Override
	public HttpClient build() {
		HttpClient client = delegate.build();
		built = client;
		return client;
	}

	@Override
	public HttpClient.Builder cookieHandler(CookieHandler cookieHandler) {
		delegate.cookieHandler(cookieHandler);
		return this;
	}

	@Override
	public HttpClient.Builder connectTimeout(Duration duration) {
		delegate.connectTimeout(duration);
		return this;
	}

	@Override
	public HttpClient.Builder sslContext(SSLContext sslContext) {
		delegate.sslContext(sslContext);
		return this;
	}

	@Override
	public HttpClient.Builder sslParameters(SSLParameters sslParameters) {
		delegate.sslParameters(sslParameters);
		return this;
	}

	@Override
	public HttpClient.Builder executor(Executor executor) {
		delegate.executor(executor);
		return this;
	}

	@Override
	public HttpClient.Builder followRedirects(HttpClient.Redirect policy) {
		delegate.followRedirects(policy);
		return this;
	}

	@Override
	public HttpClient.Builder version(HttpClient.Version version) {
		delegate.version(version);
		return this;
	}

	@Override
	public HttpClient.Builder priority(int priority) {
		delegate.priority(priority);
		return this;
	}

	@Override
	public HttpClient.Builder proxy(ProxySelector proxySelector) {
		delegate.proxy(proxySelector);
		return this;
	}

	@Override
	public HttpClient.Builder authenticator(Authenticator authenticator) {
		delegate.authenticator(authenticator);
		return this;
	}

	@Override
	public HttpClient.Builder localAddress(InetAddress localAddr) {
		delegate.localAddress(localAddr);
		return this;
	}

}
