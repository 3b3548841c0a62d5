package io.stopline.gateway.stop;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import io.stopline.gateway.GatewayProperties;
import io.stopline.gateway.GatewayProperties.StopRateLimit;
import io.stopline.gateway.system.Problems;
import io.stopline.registry.Keys;
import org.redisson.api.RRateLimiter;
import org.redisson.api.RateType;
import org.redisson.api.RedissonClient;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.ErrorResponseException;

/**
 * The per-user limit on stop requests, one Redisson {@link RRateLimiter} per user in
 * Redis, so it holds across every gateway. Its keys expire after a quiet
 * {@link #KEEP_ALIVE}. A refused request is a 429 problem detail with
 * {@code Retry-After}.
 */
@Component
public class StopRateLimiter {

	static final Duration KEEP_ALIVE = Duration.ofMinutes(10);

	private final RedissonClient redisson;

	private final StopRateLimit limit;

	StopRateLimiter(RedissonClient redisson, GatewayProperties properties) {
		this.redisson = redisson;
		this.limit = properties.stopRateLimit();
	}

	/** Takes a permit for this user or throws the 429. */
	public void acquire(String userId) {
		start(userId).check();
	}

	/**
	 * Starts taking a permit and returns at once, so the caller's own Redis work overlaps
	 * with it; {@link Permit#check()} then waits for the answer.
	 */
	Permit start(String userId) {
		// no hash tag in the name: Redisson derives its own {name}:... keys from it
		RRateLimiter limiter = redisson.getRateLimiter(
				Keys.PREFIX + "rate:stop:" + URLEncoder.encode(userId, StandardCharsets.UTF_8).replace("%", "~"));
		return new Permit(limiter, limiter.tryAcquireAsync().toCompletableFuture());
	}

	/** A permit being taken. */
	final class Permit {

		private final RRateLimiter limiter;

		private final CompletableFuture<Boolean> acquiring;

		private Permit(RRateLimiter limiter, CompletableFuture<Boolean> acquiring) {
			this.limiter = limiter;
			this.acquiring = acquiring;
		}

		/** Returns when the permit is taken; throws the 429 when it is not. */
		void check() {
			boolean acquired;
			try {
				acquired = acquiring.join();
			}
			catch (CompletionException notConfigured) {
				// first request of this user, or the limiter expired after a quiet period
				limiter.trySetRate(RateType.OVERALL, limit.permits(), limit.interval(), KEEP_ALIVE);
				acquired = limiter.tryAcquire();
			}
			if (!acquired) {
				throw limited();
			}
		}

	}

	private ErrorResponseException limited() {
		ErrorResponseException limited = Problems.of(HttpStatus.TOO_MANY_REQUESTS,
				"Too many stop requests; try again shortly.");
		limited.getHeaders().set(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, limit.interval().toSeconds() / 2)));
		return limited;
	}

}
