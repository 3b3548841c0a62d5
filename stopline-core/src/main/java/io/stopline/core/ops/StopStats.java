package io.stopline.core.ops;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.data.redis.core.StringRedisTemplate;

import io.stopline.core.run.RunEndListener;
import io.stopline.core.run.RunOutcome;
import io.stopline.core.run.RunRecord;
import io.stopline.core.schema.Keys;
import io.stopline.core.schema.LuaScripts;

/**
 * Cluster-wide stop statistics in Redis, so every gateway answers the same: one hash per
 * hour ({@code stopline:stats:h:2026112501}) of counters and a log-scale histogram of run
 * durations before a stop, kept {@link #RETENTION} and then expired. Memory is bounded:
 * at most ~60 fields per hour.
 *
 * <pre>
 * HINCRBY stopline:stats:h:2026112501 stop:confirmed 1       # a stop request and its outcome
 * HINCRBY stopline:stats:h:2026112501 run:stopped 1          # a run ended, by status
 * HINCRBY stopline:stats:h:2026112501 run:stopped_by_user 1  # ... stopped by its user (user, stop_all)
 * HINCRBY stopline:stats:h:2026112501 before_stop:sum_ms 5300
 * HINCRBY stopline:stats:h:2026112501 before_stop:b7 1       # histogram bucket of the run's duration
 * EXPIRE  stopline:stats:h:2026112501 691200
 * </pre>
 *
 * A node counts in memory and adds its counts to Redis once per {@link #FLUSH_INTERVAL}
 * (all fields of an hour in one script call), and once more when it shuts down: a count
 * costs no round trip on the stop's path, and the cluster-wide figures trail by at most
 * that interval. A failed write keeps its counts for the next one.
 */
public final class StopStats implements RunEndListener, AutoCloseable {

	public static final Duration RETENTION = Duration.ofDays(8);

	private static final DateTimeFormatter HOUR = DateTimeFormatter.ofPattern("yyyyMMddHH").withZone(ZoneOffset.UTC);

	/**
	 * Upper bounds of the duration histogram: 100 ms growing by half each bucket, up to
	 * about a day.
	 */
	static final long[] BOUNDS_MS = bounds();

	/** How often a node adds what it counted to the counters in Redis. */
	public static final Duration FLUSH_INTERVAL = Duration.ofSeconds(1);

	private static final Logger log = LoggerFactory.getLogger(StopStats.class);

	private final StringRedisTemplate redis;

	/** Counted here, not yet in Redis: hour key, then field. */
	private final ConcurrentMap<String, ConcurrentMap<String, LongAdder>> pending = new ConcurrentHashMap<>();

	private final @Nullable ScheduledExecutorService flusher;

	private final ReentrantLock flushing = new ReentrantLock();

	/** Counts are written when {@link #flush()} is called (tests, tools). */
	public StopStats(StringRedisTemplate redis) {
		this.redis = redis;
		this.flusher = null;
	}

	private StopStats(StringRedisTemplate redis, Duration interval) {
		this.redis = redis;
		this.flusher = Executors
			.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("stop-stats-flush").factory());
		this.flusher.scheduleWithFixedDelay(this::flushQuietly, interval.toMillis(), interval.toMillis(),
				TimeUnit.MILLISECONDS);
	}

	/** Counts written to Redis every {@code interval} and on {@link #close()}. */
	public static StopStats flushedEvery(StringRedisTemplate redis, Duration interval) {
		return new StopStats(redis, interval);
	}

	/**
	 * A stop request's outcome: confirmed, requested, already_stopped, not_found,
	 * rate_limited, error.
	 */
	public void stopRequested(String outcome, Instant at) {
		add(at, "stop:" + outcome, 1);
	}

	/** A run ended (recorded exactly once, by the fenced finish that removed it). */
	@Override
	public void runEnded(RunRecord run, RunOutcome outcome) {
		List<Object> fields = new ArrayList<>(List.of("run:ended", 1, "run:" + outcome.status().wireName(), 1));
		if (outcome.isStopped()) {
			long ms = Math.max(0, Duration.between(run.since(), outcome.at()).toMillis());
			fields.addAll(List.of("before_stop:count", 1, "before_stop:sum_ms", ms, "before_stop:b" + bucket(ms), 1));
			if (outcome.stopReason() != null && outcome.stopReason().byUser()) {
				fields.addAll(List.of("run:stopped_by_user", 1));
			}
		}
		add(outcome.at(), fields.toArray());
	}

	/**
	 * The counters of each hour in {@code [from, to)}, oldest first (empty hours
	 * included).
	 */
	public List<Bucket> hours(Instant from, Instant to) {
		// this node's own counts are in before it reads
		flushQuietly();
		List<Bucket> hours = new ArrayList<>();
		for (Instant hour = from.truncatedTo(ChronoUnit.HOURS); hour
			.isBefore(to); hour = hour.plus(1, ChronoUnit.HOURS)) {
			Map<Object, Object> raw = redis.opsForHash().entries(Keys.statsHour(HOUR.format(hour)));
			Map<String, Long> counters = new LinkedHashMap<>();
			raw.forEach((field, value) -> counters.put((String) field, Long.parseLong((String) value)));
			hours.add(new Bucket(hour, counters));
		}
		return hours;
	}

	private void add(Instant at, Object... fieldIncrements) {
		ConcurrentMap<String, LongAdder> hour = pending.computeIfAbsent(Keys.statsHour(HOUR.format(at)),
				key -> new ConcurrentHashMap<>());
		for (int i = 0; i < fieldIncrements.length; i += 2) {
			hour.computeIfAbsent((String) fieldIncrements[i], field -> new LongAdder())
				.add(((Number) fieldIncrements[i + 1]).longValue());
		}
	}

	/**
	 * Adds what this node counted since the last flush to the counters in Redis: one
	 * script call per hour with counts. On failure the counts stay for the next flush.
	 * One flush at a time, under a lock rather than a monitor: a request thread (a
	 * virtual one) waiting here, or holding it across the Redis call, must not pin its
	 * carrier thread (JDK 21 pins virtual threads inside {@code synchronized}).
	 */
	public void flush() {
		flushing.lock();
		try {
			flushLocked();
		}
		finally {
			flushing.unlock();
		}
	}

	private void flushLocked() {
		for (Map.Entry<String, ConcurrentMap<String, LongAdder>> hour : pending.entrySet()) {
			Map<String, Long> counts = new LinkedHashMap<>();
			hour.getValue().forEach((field, adder) -> {
				long count = adder.sumThenReset();
				if (count != 0) {
					counts.put(field, count);
				}
			});
			if (counts.isEmpty()) {
				// an hour long past has nothing more to count
				if (!hour.getKey().equals(Keys.statsHour(HOUR.format(Instant.now())))) {
					pending.remove(hour.getKey(), hour.getValue());
				}
				continue;
			}
			List<String> args = new ArrayList<>(1 + counts.size() * 2);
			args.add(Long.toString(RETENTION.toSeconds()));
			counts.forEach((field, count) -> {
				args.add(field);
				args.add(Long.toString(count));
			});
			try {
				redis.execute(LuaScripts.STATS_ADD, List.of(hour.getKey()), args.toArray());
			}
			catch (RuntimeException ex) {
				counts
					.forEach((field, count) -> hour.getValue().computeIfAbsent(field, f -> new LongAdder()).add(count));
				throw ex;
			}
		}
	}

	private void flushQuietly() {
		try {
			flush();
		}
		catch (RuntimeException ex) {
			log.warn("could not add this node's stop statistics to Redis (kept for the next try): {}", ex.toString());
		}
	}

	/** Stops the periodic flush and writes what is left. */
	@Override
	public void close() {
		if (flusher != null) {
			flusher.shutdownNow();
		}
		flushQuietly();
	}

	static int bucket(long ms) {
		for (int i = 0; i < BOUNDS_MS.length; i++) {
			if (ms <= BOUNDS_MS[i]) {
				return i;
			}
		}
		return BOUNDS_MS.length - 1;
	}

	private static long[] bounds() {
		long[] bounds = new long[32];
		double bound = 100;
		for (int i = 0; i < bounds.length; i++) {
			bounds[i] = Math.round(bound);
			bound *= 1.5;
		}
		return bounds;
	}

	/** One hour's counters, mergeable into a day or a total. */
	public record Bucket(Instant start, Map<String, Long> counters) {

		public long get(String field) {
			return counters.getOrDefault(field, 0L);
		}

		public Bucket merge(Bucket other) {
			Map<String, Long> merged = new LinkedHashMap<>(counters);
			other.counters.forEach((field, value) -> merged.merge(field, value, Long::sum));
			return new Bucket(start, merged);
		}

		/**
		 * The p-quantile of run durations before a stop, from the histogram (a bucket's
		 * upper bound), in ms.
		 */
		public long beforeStopQuantileMs(double quantile) {
			long count = get("before_stop:count");
			if (count == 0) {
				return 0;
			}
			long rank = (long) Math.ceil(quantile * count);
			long seen = 0;
			for (int i = 0; i < BOUNDS_MS.length; i++) {
				seen += get("before_stop:b" + i);
				if (seen >= rank) {
					return BOUNDS_MS[i];
				}
			}
			return BOUNDS_MS[BOUNDS_MS.length - 1];
		}

	}

}
