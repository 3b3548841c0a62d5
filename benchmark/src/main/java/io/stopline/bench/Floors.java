package io.stopline.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The floors every stop figure is compared with, measured on the same machine in the same
 * run: a Redis PING round trip and a PUBLISH-to-receive over raw sockets (no client
 * library), and a no-op authenticated endpoint on the gateway under test.
 */
final class Floors {

	private Floors() {
	}

	static Latencies redisPing(String redisUrl, int samples) {
		Latencies latencies = new Latencies();
		try (RawPing ping = new RawPing(redisUrl, Duration.ZERO)) {
			for (int i = 0; i < samples + 200; i++) {
				long took = ping.roundTrip();
				if (i >= 200) {
					latencies.add(took);
				}
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		return latencies;
	}

	static Latencies publishToReceive(String redisUrl, int samples) {
		URI uri = URI.create(redisUrl);
		Latencies latencies = new Latencies();
		try (Socket subscriber = new Socket(uri.getHost(), uri.getPort());
				Socket publisher = new Socket(uri.getHost(), uri.getPort())) {
			subscriber.setTcpNoDelay(true);
			publisher.setTcpNoDelay(true);
			BufferedReader sub = new BufferedReader(
					new InputStreamReader(subscriber.getInputStream(), StandardCharsets.UTF_8));
			BufferedReader pubIn = new BufferedReader(
					new InputStreamReader(publisher.getInputStream(), StandardCharsets.UTF_8));
			subscriber.getOutputStream().write(resp("SUBSCRIBE", "bench-floor"));
			for (int i = 0; i < 6; i++) {
				sub.readLine(); // *3, $9 subscribe, $11 channel, :1
			}
			byte[] publish = resp("PUBLISH", "bench-floor", "x");
			OutputStream out = publisher.getOutputStream();
			for (int i = 0; i < samples + 200; i++) {
				long start = System.nanoTime();
				out.write(publish);
				out.flush();
				for (int line = 0; line < 7; line++) {
					sub.readLine(); // *3, $7, message, $11, bench-floor, $1, x
				}
				long took = System.nanoTime() - start;
				pubIn.readLine(); // :1
				if (i >= 200) {
					latencies.add(took);
				}
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		return latencies;
	}

	/**
	 * PING through the client the nodes use (Spring Data Redis on Redisson, from a
	 * virtual thread as a request would): what one Redis round trip costs a node here.
	 */
	static Latencies redisPingThroughClient(BenchCluster cluster, int samples) {
		Latencies latencies = new Latencies();
		var template = cluster.clients().template();
		try (var thread = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
			thread.submit(() -> {
				for (int i = 0; i < samples + 200; i++) {
					long start = System.nanoTime();
					template
						.execute((org.springframework.data.redis.core.RedisCallback<String>) connection -> connection
							.ping());
					if (i >= 200) {
						latencies.add(System.nanoTime() - start);
					}
				}
			}).get();
		}
		catch (Exception ex) {
			throw new IllegalStateException("PING through the client failed", ex);
		}
		return latencies;
	}

	/**
	 * PUBLISH to a Redisson topic listener, through the same client: what one pub/sub
	 * delivery costs between nodes here.
	 */
	static Latencies publishToListenerThroughClient(BenchCluster cluster, int samples) {
		Latencies latencies = new Latencies();
		var redisson = cluster.clients().redisson();
		var topic = redisson.getTopic("bench-floor-client", org.redisson.client.codec.StringCodec.INSTANCE);
		java.util.concurrent.BlockingQueue<Long> received = new java.util.concurrent.LinkedBlockingQueue<>();
		int listener = topic.addListener(String.class, (channel, message) -> received.add(System.nanoTime()));
		try {
			for (int i = 0; i < samples + 200; i++) {
				long start = System.nanoTime();
				topic.publish("x");
				Long at = received.poll(5, java.util.concurrent.TimeUnit.SECONDS);
				if (at == null) {
					throw new IllegalStateException("no message within 5 s");
				}
				if (i >= 200) {
					latencies.add(at - start);
				}
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
		finally {
			topic.removeListener(listener);
		}
		return latencies;
	}

	static Latencies noOpEndpoint(BenchCluster cluster, int samples) {
		String token = cluster.token("bench-floor");
		return noOp(samples, () -> cluster.api().get(token, "/v1/auth/whoami").status());
	}

	/**
	 * The same no-op endpoint through the JDK {@code HttpClient}: the cost of that client
	 * on this machine (the first runs measured everything with it).
	 */
	static Latencies noOpEndpointJdkClient(BenchCluster cluster, int samples) {
		HttpRequest whoami = cluster.get("bench-floor", "/v1/auth/whoami");
		return noOp(samples, () -> cluster.send(whoami).statusCode());
	}

	/** Sequential no-op requests after 200 unmeasured ones; every answer must be 200. */
	private static Latencies noOp(int samples, java.util.function.IntSupplier request) {
		Latencies latencies = new Latencies();
		for (int i = 0; i < samples + 200; i++) {
			long start = System.nanoTime();
			int status = request.getAsInt();
			long took = System.nanoTime() - start;
			if (status != 200) {
				throw new IllegalStateException("whoami answered " + status);
			}
			if (i >= 200) {
				latencies.add(took);
			}
		}
		return latencies;
	}

	private static byte[] resp(String... args) {
		StringBuilder command = new StringBuilder("*").append(args.length).append("\r\n");
		for (String arg : args) {
			command.append('$').append(arg.length()).append("\r\n").append(arg).append("\r\n");
		}
		return command.toString().getBytes(StandardCharsets.UTF_8);
	}

}
