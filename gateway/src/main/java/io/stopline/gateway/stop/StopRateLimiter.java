package io.stopline.gateway.stop;

import io.stopline.gateway.GatewayProperties;
import io.stopline.gateway.system.Problems;
import io.stopline.core.stop.StopRequests;
import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.ErrorResponseException;

/**
 * The per-user limit on stop requests (and pauses and resumes): a token bucket per user
 * in Redis ({@code stopline:{u:<user>}:stop-rate}), so it holds across every gateway.
 * Every permit decision goes through here: a single stop's permit is taken inside its own
 * lookup script ({@link #inScript}, then {@link #refused} when the script said no),
 * everything else asks {@link #acquire}. A refusal is counted ({@code rate_limited}) for
 * the stop endpoints and answered as a 429 problem detail with {@code Retry-After}.
 */
@Component
public class StopRateLimiter {

	/** The metrics' endpoint tag of a single stop. */
	static final String SINGLE = "single";

	/** The metrics' endpoint tag of a bulk stop. */
	static final String ALL = "all";

	private final StopRequests stopRequests;

	private final StopMetrics metrics;

	private final StopRequests.Rate rate;

	StopRateLimiter(StopRequests stopRequests, StopMetrics metrics, GatewayProperties properties) {
		this.stopRequests = stopRequests;
		this.metrics = metrics;
		this.rate = new StopRequests.Rate(properties.stopRateLimit().permits(), properties.stopRateLimit().interval());
	}

	/** Takes a permit for a pause or resume, or throws the 429. */
	public void acquire(String userId) {
		if (!stopRequests.takePermit(userId, rate)) {
			throw limited();
		}
	}

	/**
	 * Takes {@code count} permits (a bulk stop pays one per id) or throws the 429
	 * (counted for {@code endpoint}). Granted while the user's bucket holds one permit;
	 * the rest is a debt that delays the user's next stops by {@code count} / rate.
	 */
	void acquire(String userId, int count, String endpoint) {
		long started = System.nanoTime();
		if (!stopRequests.takePermits(userId, rate, count)) {
			throw refused(endpoint, started);
		}
	}

	/** The rate a command's lookup script takes its permit from, or null for none. */
	StopRequests.@Nullable Rate inScript(StopCommand command) {
		return command.takesPermit() ? rate : null;
	}

	/** The lookup script refused the permit (asked at {@code started}, nanoTime). */
	ErrorResponseException refused(String endpoint, long started) {
		metrics.record(endpoint, "rate_limited", System.nanoTime() - started);
		return limited();
	}

	private ErrorResponseException limited() {
		ErrorResponseException limited = Problems.of(HttpStatus.TOO_MANY_REQUESTS,
				"Too many stop requests; try again shortly.");
		limited.getHeaders().set(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, rate.interval().toSeconds() / 2)));
		return limited;
	}

}
