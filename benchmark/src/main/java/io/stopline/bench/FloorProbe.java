package io.stopline.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The stop's floors while the chats stream, in the same window as the stops and between
 * them (half an interval after each): a Redis PING on a raw socket from the load
 * generator, and the stop's thinnest sibling through the same client and port, the
 * authenticated listing of a user with no runs (HTTP in, the bearer token checked, one
 * Redis read, the answer out). A stop that costs a few of these under the same load is
 * paying the machine's price for each hop, not queueing behind the tokens.
 */
final class FloorProbe implements AutoCloseable {

	private final Latencies ping = new Latencies();

	private final Latencies listing = new Latencies();

	private final Thread thread;

	private volatile boolean running = true;

	FloorProbe(BenchCluster cluster, long intervalNanos) {
		URI redis = URI.create(cluster.redisUrl());
		String token = cluster.token("bench-floor");
		this.thread = Thread.ofPlatform().name("floor-probe").daemon().start(() -> {
			try (Socket socket = new Socket(redis.getHost(), redis.getPort())) {
				socket.setTcpNoDelay(true);
				OutputStream out = socket.getOutputStream();
				BufferedReader in = new BufferedReader(
						new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
				byte[] command = "PING\r\n".getBytes(StandardCharsets.US_ASCII);
				long next = System.nanoTime() + intervalNanos / 2;
				while (running) {
					long wait = next - System.nanoTime();
					if (wait > 0) {
						TimeUnit.NANOSECONDS.sleep(wait);
					}
					next += intervalNanos;
					long sent = System.nanoTime();
					cluster.listingAsync(token).thenAccept(status -> {
						if (status == 200) {
							listing.add(System.nanoTime() - sent);
						}
					});
					long pinged = System.nanoTime();
					out.write(command);
					out.flush();
					in.readLine();
					ping.add(System.nanoTime() - pinged);
				}
			}
			catch (IOException ex) {
				System.err.println("floor probe: " + ex);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		});
	}

	@Override
	public void close() {
		running = false;
		thread.interrupt();
		try {
			thread.join(TimeUnit.SECONDS.toMillis(5));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/** Both floors, after {@link #close}. */
	Map<String, Object> summary() {
		Map<String, Object> summary = new LinkedHashMap<>();
		summary.put("redis_ping", ping.summary());
		summary.put("listing_same_port", listing.summary());
		return summary;
	}

	Latencies listing() {
		return listing;
	}

	Latencies ping() {
		return ping;
	}

}
