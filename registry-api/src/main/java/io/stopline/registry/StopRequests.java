package io.stopline.registry;

import java.util.List;
import java.util.Set;

import io.stopline.protocol.Json;
import io.stopline.protocol.StopRun;

import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Stop requests addressed to a worker: recorded in {@code stopline:{w:<worker>}:stops}
 * and then published on {@code stopline:{w:<worker>}:stop} by one script. Pub/sub is the
 * fast path; the set is what the worker reads when it may have missed a publish. The
 * worker removes an entry once the stop is carried out or moot.
 */
public final class StopRequests {

	private final StringRedisTemplate redis;

	private final String publish;

	public StopRequests(StringRedisTemplate redis) {
		this(redis, false);
	}

	/**
	 * @param sharded Redis Cluster: publish on the shard channel ({@code SPUBLISH})
	 */
	public StopRequests(StringRedisTemplate redis, boolean sharded) {
		this.redis = redis;
		this.publish = sharded ? "SPUBLISH" : "PUBLISH";
	}

	/**
	 * Records and publishes the stop; returns how many subscribers received the publish
	 * (0: nobody listening).
	 */
	public long signal(String workerId, StopRun stop) {
		Long receivers = redis.execute(LuaScripts.SIGNAL_STOP,
				List.of(Keys.workerStops(workerId), Keys.workerStopChannel(workerId)), Json.write(stop),
				Long.toString(stop.requestedAt().toEpochMilli()), publish);
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
