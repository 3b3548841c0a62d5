package io.stopline.core.stop;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import io.stopline.protocol.Json;
import io.stopline.protocol.StopRun;
import io.stopline.core.run.ConversationRegistry.StopTarget;
import io.stopline.core.run.RedisConversationRegistry;
import io.stopline.core.schema.Keys;
import io.stopline.core.schema.LuaScripts;
import io.stopline.core.schema.Topology;
import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Stop requests addressed to a worker: recorded in {@code stopline:{w:<worker>}:stops}
 * and then published on {@code stopline:{w:<worker>}:stop} by one script. Pub/sub is the
 * fast path; the set is what the worker reads when it may have missed a publish. The
 * worker removes an entry once the stop is carried out or moot.
 */
public final class StopRequests {

	private final StringRedisTemplate redis;

	private final Topology topology;

	public StopRequests(StringRedisTemplate redis) {
		this(redis, Topology.SINGLE_SLOT);
	}

	/**
	 * @param topology on Redis Cluster the lookup cannot reach the worker's slot (the
	 * caller {@link #signal}s), and stops are published on shard channels
	 */
	public StopRequests(StringRedisTemplate redis, Topology topology) {
		this.redis = redis;
		this.topology = topology;
	}

	/**
	 * At most {@code permits} requests per {@code interval} and user, across every
	 * gateway: a token bucket in {@code stopline:{u:<user>}:stop-rate}.
	 */
	public record Rate(long permits, Duration interval) {
	}

	/** What a stop request's first round trip found and did. */
	public sealed interface Lookup {

		/** Refused by the rate limit; nothing was looked up or changed. */
		record Limited() implements Lookup {
		}

		/**
		 * The run's state; {@code signalled} when the request was also recorded and
		 * published to its worker (its JSON, and how many subscribers received it).
		 */
		record Found(StopTarget target, @Nullable Signalled signalled) implements Lookup {
		}

		/**
		 * The run id asked for has not arrived: a tombstone now makes its send answer as
		 * stopped, and it never starts.
		 */
		record StoppedBefore() implements Lookup {
		}

	}

	/** A request recorded and published: its exact JSON and how many heard it. */
	public record Signalled(String request, long receivers) {
	}

	/**
	 * A user's stop request in one round trip: takes a permit ({@code rate}, or none when
	 * null), looks the conversation's run up and, when a worker holds it, records and
	 * publishes {@code stop} with the run's id filled in. On Redis Cluster the worker's
	 * keys live in another slot: there this only looks up, and the caller
	 * {@link #signal}s.
	 */
	public Lookup request(String userId, String conversationId, @Nullable Rate rate, StopRun stop) {
		return request(userId, conversationId, rate, stop, null, Duration.ZERO);
	}

	/**
	 * As {@link #request(String, String, Rate, StopRun)}, for the run {@code runId} only
	 * (whichever is active when null): when that run id has not arrived yet, a tombstone
	 * living {@code tombstoneTtl} makes its send answer as stopped, so it never starts.
	 */
	public Lookup request(String userId, String conversationId, @Nullable Rate rate, StopRun stop,
			@Nullable String runId, Duration tombstoneTtl) {
		String wanted = runId == null ? "" : runId;
		@SuppressWarnings("unchecked")
		List<Object> answer = redis.execute(LuaScripts.STOP_REQUEST,
				List.of(Keys.stopRate(userId), Keys.runs(userId), Keys.stopped(userId, conversationId),
						Keys.lastRuns(userId), Keys.stopBefore(userId, conversationId, wanted)),
				conversationId, rate == null ? "0" : Long.toString(rate.permits()),
				rate == null ? "0" : Long.toString(Math.max(1, rate.interval().toMillis())),
				topology.acrossTags(() -> Json.write(stop)).orElse(""), Keys.workerStops("%s"),
				Keys.workerStopChannel("%s"), Long.toString(stop.requestedAt().toEpochMilli()), wanted,
				Long.toString(Math.max(1, tombstoneTtl.toMillis())), Json.write(stop));
		String verdict = (String) answer.get(0);
		return switch (verdict) {
			case "L" -> new Lookup.Limited();
			case "T" -> new Lookup.StoppedBefore();
			case "N" -> new Lookup.Found(new StopTarget.NotFound(), null);
			case "S" -> new Lookup.Found(new StopTarget.RecentlyStopped((String) answer.get(1)), null);
			case "A" -> new Lookup.Found(active(answer, userId, conversationId), null);
			case "R" -> new Lookup.Found(active(answer, userId, conversationId),
					new Signalled((String) answer.get(2), (Long) answer.get(3)));
			default -> throw new IllegalStateException("unexpected stop-request answer " + verdict);
		};
	}

	private static StopTarget active(List<Object> answer, String userId, String conversationId) {
		return new StopTarget.Active(RedisConversationRegistry.read((String) answer.get(1), userId, conversationId));
	}

	/** Takes one permit of the user's stop rate (pause, resume). */
	public boolean takePermit(String userId, Rate rate) {
		return takePermits(userId, rate, 1);
	}

	/**
	 * Takes {@code count} permits of the user's stop rate (a bulk stop: one per id),
	 * granted while the bucket holds at least one; the rest is a debt the refill pays.
	 */
	public boolean takePermits(String userId, Rate rate, int count) {
		Long granted = redis.execute(LuaScripts.TAKE_PERMIT, List.of(Keys.stopRate(userId)),
				Long.toString(rate.permits()), Long.toString(Math.max(1, rate.interval().toMillis())),
				Integer.toString(Math.max(1, count)));
		return granted != null && granted == 1L;
	}

	/**
	 * Records and publishes the stop; returns how many subscribers received the publish
	 * (0: nobody listening).
	 */
	public long signal(String workerId, StopRun stop) {
		Long receivers = redis.execute(LuaScripts.SIGNAL_STOP,
				List.of(Keys.workerStops(workerId), Keys.workerStopChannel(workerId)), Json.write(stop),
				Long.toString(stop.requestedAt().toEpochMilli()), topology.publishCommand());
		return receivers == null ? 0 : receivers;
	}

	/** The recorded requests of a worker, raw JSON (the exact set members). */
	public List<String> pending(String workerId) {
		Set<String> members = redis.opsForZSet().range(Keys.workerStops(workerId), 0, -1);
		return members == null ? List.of() : List.copyOf(members);
	}

	public void clear(String workerId, String rawStop) {
		redis.opsForZSet().remove(Keys.workerStops(workerId), rawStop);
	}

}
