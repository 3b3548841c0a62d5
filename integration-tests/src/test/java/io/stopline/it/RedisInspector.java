package io.stopline.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.stopline.core.schema.Keys;
import io.stopline.testing.RedisClients;
import io.stopline.testing.TestRedis;

import org.springframework.data.redis.core.Cursor;
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What a test sees directly in Redis: leftover keys, and real faults on connections. */
final class RedisInspector implements AutoCloseable {

	private final RedisClients clients;

	private final String url;

	RedisInspector(TestRedis redis) {
		this.clients = new RedisClients(redis);
		this.url = redis.url();
	}

	StringRedisTemplate template() {
		return clients.template();
	}

	RedisClients clients() {
		return clients;
	}

	/**
	 * Nothing is left behind: no ownership record, no worker index entry, no recorded
	 * stop request, no queued job, no queued-runs entry. (History and the minute-long
	 * stop markers are data, not leaks.) Waits, bounded, for in-flight cleanup.
	 */
	void assertNoLeaks() {
		await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
			assertThat(keys("stopline:*:runs")).as("ownership records and worker indexes").isEmpty();
			assertThat(keys("stopline:{w:*}:stops")).as("recorded stop requests").isEmpty();
			Long queued = template().opsForStream().size(Keys.JOBS);
			assertThat(queued == null ? 0 : queued).as("queued jobs").isZero();
			Long waiting = template().opsForZSet().size(Keys.QUEUED);
			assertThat(waiting == null ? 0 : waiting).as("queued-runs entries").isZero();
		});
	}

	List<String> keys(String pattern) {
		List<String> keys = new ArrayList<>();
		try (Cursor<String> cursor = template().scan(ScanOptions.scanOptions().match(pattern).count(1000).build())) {
			cursor.forEachRemaining(keys::add);
		}
		return keys;
	}

	/**
	 * {@code CLIENT KILL TYPE pubsub}: drops every subscribed connection, as a network
	 * blip would.
	 */
	long killSubscribers() {
		String reply = command("CLIENT", "KILL", "TYPE", "pubsub");
		if (!reply.startsWith(":")) {
			throw new IllegalStateException("CLIENT KILL answered " + reply);
		}
		return Long.parseLong(reply.substring(1).trim());
	}

	/**
	 * One command over a fresh socket in RESP, for commands the client libraries do not
	 * expose.
	 */
	String command(String... args) {
		URI uri = URI.create(url);
		try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
			socket.setSoTimeout(5000);
			StringBuilder request = new StringBuilder("*").append(args.length).append("\r\n");
			for (String arg : args) {
				request.append('$').append(arg.length()).append("\r\n").append(arg).append("\r\n");
			}
			socket.getOutputStream().write(request.toString().getBytes(StandardCharsets.UTF_8));
			socket.getOutputStream().flush();
			return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))
				.readLine();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	@Override
	public void close() {
		clients.close();
	}

}
