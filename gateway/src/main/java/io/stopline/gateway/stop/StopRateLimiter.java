package io.stopline.gateway.stop;

import io.stopline.gateway.GatewayProperties;
import io.stopline.gateway.system.Problems;
import io.stopline.core.stop.StopRequests;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.ErrorResponseException;

/**
 * The per-user limit on stop requests (and pauses and resumes): a token bucket per user
 * in Redis ({@code stopline:{u:<user>}:stop-rate}), so it holds across every gateway. A
 * single stop takes its permit inside its own lookup script (see
 * {@link StopRequests#request}); everything else asks here. A refused request is a 429
 * problem detail with {@code Retry-After}.
 */
@Component
public class StopRateLimiter {

	private final StopRequests stopRequests;

	private final StopRequests.Rate rate;

	StopRateLimiter(StopRequests stopRequests, GatewayProperties properties) {
		this.stopRequests = stopRequests;
		this.rate = new StopRequests.Rate(properties.stopRateLimit().permits(), properties.stopRateLimit().interval());
	}

	/** Takes a permit for this user or throws the 429. */
	public void acquire(String userId) {
		acquire(userId, 1);
	}

	/**
	 * Takes {@code count} permits (a bulk stop pays one per id) or throws the 429.
	 * Granted while the user's bucket holds one permit; the rest is a debt that delays
	 * the user's next stops by {@code count} / rate.
	 */
	void acquire(String userId, int count) {
		if (!stopRequests.takePermits(userId, rate, count)) {
			throw limited();
		}
	}

	StopRequests.Rate rate() {
		return rate;
	}

	ErrorResponseException limited() {
		ErrorResponseException limited = Problems.of(HttpStatus.TOO_MANY_REQUESTS,
				"Too many stop requests; try again shortly.");
		limited.getHeaders().set(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, rate.interval().toSeconds() / 2)));
		return limited;
	}

}
