package io.stopline.core.liveness;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import org.springframework.data.redis.core.StringRedisTemplate;

import io.stopline.core.schema.Keys;
import io.stopline.core.schema.LuaScripts;

/**
 * Liveness of workers: each renews {@code stopline:{w:<worker>}:alive} with a TTL and is
 * listed in {@code stopline:workers}. A listed worker whose key expired is dead; its
 * index and stop set are removed by {@link #forget} after its runs were finished.
 */
public final class WorkerLiveness {

	private final StringRedisTemplate redis;

	public WorkerLiveness(StringRedisTemplate redis) {
		this.redis = redis;
	}

	/**
	 * Renews the heartbeat. Returns false when the key had expired or vanished before
	 * this renewal: the worker was unreachable past its TTL (and may have been reaped) or
	 * Redis lost its data, so it must re-check its runs.
	 */
	public boolean heartbeat(String workerId, Duration ttl) {
		long now = Instant.now().toEpochMilli();
		String previous = redis.execute(LuaScripts.HEARTBEAT, List.of(Keys.workerAlive(workerId)),
				Long.toString(ttl.toMillis()), Long.toString(now));
		redis.opsForZSet().add(Keys.WORKERS, workerId, now);
		return previous != null;
	}

	public boolean isAlive(String workerId) {
		return Boolean.TRUE.equals(redis.hasKey(Keys.workerAlive(workerId)));
	}

	/**
	 * Dead: known (listed in {@code stopline:workers} by its heartbeats) and its
	 * heartbeat key gone. A worker Redis does not know at all is not dead but forgotten:
	 * Redis lost its data (a restart without persistence, a failover that lost writes),
	 * and the worker registers again at its next heartbeat. Only the dead are reaped.
	 */
	public boolean isDead(String workerId) {
		return !isAlive(workerId) && redis.opsForZSet().score(Keys.WORKERS, workerId) != null;
	}

	public List<String> knownWorkers() {
		Set<String> workers = redis.opsForZSet().range(Keys.WORKERS, 0, -1);
		return workers == null ? List.of() : List.copyOf(workers);
	}

	/**
	 * Removes every trace of a worker: a graceful exit, or the reaper after finishing a
	 * dead worker's runs.
	 */
	public void forget(String workerId) {
		redis.delete(List.of(Keys.workerAlive(workerId), Keys.workerRuns(workerId), Keys.workerStops(workerId)));
		redis.opsForZSet().remove(Keys.WORKERS, workerId);
	}

}
