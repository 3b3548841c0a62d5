package io.stopline.core.ops;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

import io.stopline.protocol.StopReceipt;
import io.stopline.protocol.Json;
import io.stopline.core.schema.Keys;
import io.stopline.core.schema.LuaScripts;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.Limit;
import org.springframework.data.redis.connection.stream.MapRecord;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The audit trail of stops: every stop (a user's, stop-all, an admin's, shutdown, the
 * reaper's) as a structured log line and an entry in a capped Redis Stream, newest last.
 *
 * <pre>
 * XADD     stopline:audit:stops MAXLEN ~ 100000 * entry '{"by":"alice","user":"alice","conversation":"c-42",...}'
 * XREVRANGE stopline:audit:stops + - COUNT 1000
 * </pre>
 */
public final class StopAudit {

	static final long CAP = 100_000;

	private static final Logger log = LoggerFactory.getLogger("stopline.audit");

	/** The most entries one write carries. */
	private static final int BATCH = 256;

	private final StringRedisTemplate redis;

	private final Executor writer;

	private final Queue<Entry> pending = new ConcurrentLinkedQueue<>();

	private final AtomicBoolean draining = new AtomicBoolean();

	/** Writes each entry before returning (tests, tools). */
	public StopAudit(StringRedisTemplate redis) {
		this(redis, Runnable::run);
	}

	/**
	 * @param writer where the Redis writes happen: off the stop's path, so that the
	 * answer to a stop does not wait for its audit entry. It must run one task at a time:
	 * entries go out in order, and the ones that queue up meanwhile leave together in one
	 * round trip.
	 */
	public StopAudit(StringRedisTemplate redis, Executor writer) {
		this.redis = redis;
		this.writer = writer;
	}

	/**
	 * Records one stop. Never fails its caller: an audit write that cannot reach Redis is
	 * still in the log.
	 * @param by who asked: a user id, or {@code system} / {@code reaper}
	 */
	public void record(Entry entry) {
		pending.add(entry);
		if (draining.compareAndSet(false, true)) {
			try {
				writer.execute(this::drain);
			}
			catch (RejectedExecutionException ex) {
				// shutting down: write it here
				drain();
			}
		}
	}

	/** Writes what is queued, in batches, until nothing is. */
	private void drain() {
		while (true) {
			draining.set(false);
			List<Entry> batch = new ArrayList<>();
			for (Entry entry = pending.poll(); entry != null; entry = batch.size() < BATCH ? pending.poll() : null) {
				batch.add(entry);
			}
			if (batch.isEmpty()) {
				return;
			}
			write(batch);
			if (!draining.compareAndSet(false, true)) {
				// another drain was scheduled meanwhile: it takes the rest
				return;
			}
		}
	}

	private void write(List<Entry> batch) {
		List<String> args = new ArrayList<>(batch.size() + 1);
		args.add(Long.toString(CAP));
		for (Entry entry : batch) {
			log.info("stop audit by={} user={} conversation={} run={} reason={} outcome={} latency_us={}", entry.by(),
					entry.user(), entry.conversation(), entry.run(), entry.reason(), entry.outcome(),
					entry.latencyMicros());
			args.add(Json.write(entry));
		}
		try {
			redis.execute(LuaScripts.AUDIT_ADD, List.of(Keys.STOP_AUDIT), args.toArray());
		}
		catch (RuntimeException ex) {
			log.warn("could not write {} stop audit entries to Redis: {}", batch.size(), ex.toString());
		}
	}

	/**
	 * Newest first, at most {@code limit}, optionally only one user's and only since a
	 * time.
	 */
	public List<Entry> read(@Nullable String user, @Nullable Instant since, int limit) {
		List<Entry> entries = new ArrayList<>();
		List<MapRecord<String, Object, Object>> records = redis.opsForStream()
			.reverseRange(Keys.STOP_AUDIT, Range.unbounded(), Limit.limit().count(Math.max(limit * 10, 1000)));
		if (records == null) {
			return entries;
		}
		for (MapRecord<String, Object, Object> record : records) {
			Entry entry = Json.read((String) record.getValue().get("entry"), Entry.class);
			if (since != null && entry.at().isBefore(since)) {
				break;
			}
			if (user == null || user.equals(entry.user())) {
				entries.add(entry);
				if (entries.size() == limit) {
					break;
				}
			}
		}
		return entries;
	}

	/** One audited stop. */
	/**
	 * One audited stop; a stop that stopped a running run carries its receipt (the tokens
	 * kept and the stages).
	 */
	public record Entry(String by, String user, String conversation, @Nullable String run, String reason,
			String outcome, long latencyMicros, Instant at, @Nullable Integer tokensKept,
			@Nullable StopReceipt receipt) {

		public Entry(String by, String user, String conversation, @Nullable String run, String reason, String outcome,
				long latencyMicros, Instant at) {
			this(by, user, conversation, run, reason, outcome, latencyMicros, at, null, null);
		}

	}

}
