package io.stopline.registry;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import io.stopline.protocol.Json;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.Limit;
import org.springframework.data.redis.connection.stream.MapRecord;
import org.springframework.data.redis.connection.stream.StreamRecords;
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

	public static final String KEY = Keys.PREFIX + "audit:stops";

	static final long CAP = 100_000;

	private static final Logger log = LoggerFactory.getLogger("stopline.audit");

	private final StringRedisTemplate redis;

	private final Executor writer;

	/** Writes each entry before returning (tests, tools). */
	public StopAudit(StringRedisTemplate redis) {
		this(redis, Runnable::run);
	}

	/**
	 * @param writer where the Redis write happens: off the stop's path, so that the
	 * answer to a stop does not wait for its audit entry; one at a time keeps them in
	 * order
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
		try {
			// the log line too is written by the writer, off the stop's answer
			writer.execute(() -> write(entry));
		}
		catch (RejectedExecutionException ex) {
			// shutting down: write it here
			write(entry);
		}
	}

	private void write(Entry entry) {
		log.info("stop audit by={} user={} conversation={} run={} reason={} outcome={} latency_us={}", entry.by(),
				entry.user(), entry.conversation(), entry.run(), entry.reason(), entry.outcome(),
				entry.latencyMicros());
		String json = Json.write(entry);
		try {
			redis.opsForStream()
				.add(StreamRecords.string(Map.of("entry", json)).withStreamKey(KEY),
						org.springframework.data.redis.connection.RedisStreamCommands.XAddOptions.maxlen(CAP)
							.approximateTrimming(true));
		}
		catch (RuntimeException ex) {
			log.warn("could not write the stop audit entry to Redis: {}", ex.toString());
		}
	}

	/**
	 * Newest first, at most {@code limit}, optionally only one user's and only since a
	 * time.
	 */
	public List<Entry> read(@Nullable String user, @Nullable Instant since, int limit) {
		List<Entry> entries = new ArrayList<>();
		List<MapRecord<String, Object, Object>> records = redis.opsForStream()
			.reverseRange(KEY, Range.unbounded(), Limit.limit().count(Math.max(limit * 10, 1000)));
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
	public record Entry(String by, String user, String conversation, @Nullable String run, String reason,
			String outcome, long latencyMicros, Instant at) {
	}

}
