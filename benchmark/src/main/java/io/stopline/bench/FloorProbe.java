package io.stopline.bench;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;

/**
 * The stop's floors while the chats stream, in the same window as the stops and between
 * them: half an interval after each stop, the stop's thinnest sibling through the same
 * client and port, the authenticated listing of a user with no runs (HTTP in, the bearer
 * token checked, one Redis read, the answer out); a quarter interval later, a Redis PING
 * on a raw socket from the load generator. A stop that costs a few of these under the
 * same load is paying the machine's price for each hop, not queueing behind the tokens.
 */
final class FloorProbe implements AutoCloseable {

	private final Latencies ping = new Latencies();

	private final Latencies listing = new Latencies();

	private final Map<Integer, AtomicLong> listingStatuses = new ConcurrentHashMap<>();

	private final List<CompletableFuture<?>> pending = new CopyOnWriteArrayList<>();

	private final RawPing redis;

	private final BenchCluster cluster;

	private final String token;

	private final long intervalNanos;

	private @Nullable Thread thread;

	private volatile boolean running = true;

	/** Connects and takes its token (before the window: neither is measured). */
	FloorProbe(BenchCluster cluster, long intervalNanos) throws IOException {
		this.cluster = cluster;
		this.intervalNanos = intervalNanos;
		this.token = cluster.token("bench-floor");
		// a stalled Redis ends the PINGs, not the thread (a blocked read ignores
		// interrupts)
		this.redis = new RawPing(cluster.redisUrl(), Duration.ofSeconds(1));
	}

	/** Probes from {@code began} (the window's start, on {@link System#nanoTime}). */
	void start(long began) {
		this.thread = Thread.ofPlatform().name("floor-probe").daemon().start(() -> {
			boolean pinging = true;
			try {
				for (long next = began + intervalNanos / 2; running; next += intervalNanos) {
					sleepUntil(next);
					long sent = System.nanoTime();
					pending.add(cluster.listingAsync(token).thenAccept(status -> {
						listingStatuses.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
						if (status == 200) {
							listing.add(System.nanoTime() - sent);
						}
					}));
					if (!pinging) {
						continue;
					}
					sleepUntil(next + intervalNanos / 4);
					try {
						ping.add(redis.roundTrip());
					}
					catch (IOException ex) {
						System.err.println("floor probe: no more PINGs (" + ex + ")");
						pinging = false;
					}
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		});
	}

	private static void sleepUntil(long at) throws InterruptedException {
		long wait = at - System.nanoTime();
		if (wait > 0) {
			TimeUnit.NANOSECONDS.sleep(wait);
		}
	}

	/** Stops probing and waits (bounded) for the listings still on their way. */
	@Override
	public void close() {
		running = false;
		Thread probing = thread;
		try {
			if (probing != null) {
				probing.interrupt();
				probing.join(TimeUnit.SECONDS.toMillis(5));
			}
			redis.close();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (IOException ex) {
			// closing a socket: nothing to do
		}
		CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
			.orTimeout(5, TimeUnit.SECONDS)
			.exceptionally(ex -> null)
			.join();
	}

	/**
	 * Both floors, after {@link #close}, and the stop's ratio to each at p50 and p99
	 * (left out when a floor has no sample).
	 */
	Map<String, Object> summary(Latencies stops) {
		Map<String, Object> summary = new LinkedHashMap<>();
		summary.put("redis_ping", ping.summary());
		summary.put("listing_same_port", listing.summary());
		Map<Integer, Long> statuses = new java.util.TreeMap<>();
		listingStatuses.forEach((status, count) -> statuses.put(status, count.get()));
		summary.put("listing_statuses", statuses);
		ratio(summary, "stop_over_listing", stops, listing);
		ratio(summary, "stop_over_redis_ping", stops, ping);
		return summary;
	}

	private static void ratio(Map<String, Object> summary, String name, Latencies stops, Latencies floor) {
		if (floor.size() == 0 || stops.size() == 0) {
			return;
		}
		Map<String, Object> ratio = new LinkedHashMap<>();
		ratio.put("p50", Latencies.round(stops.ms(0.5) / floor.ms(0.5)));
		ratio.put("p99", Latencies.round(stops.ms(0.99) / floor.ms(0.99)));
		summary.put(name, ratio);
	}

}
