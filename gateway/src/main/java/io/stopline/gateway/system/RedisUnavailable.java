package io.stopline.gateway.system;

import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;

/**
 * Redis did not answer in time, or could not be reached: a fact of life under load or
 * during a failover, not a bug. The client gets 503 with {@code Retry-After}, never 500,
 * and is told honestly that the operation may or may not have happened: every Stopline
 * operation it can retry (a stop, a pause, a listing) is idempotent.
 */
final class RedisUnavailable {

	private static final Logger log = LoggerFactory.getLogger(RedisUnavailable.class);

	static final String RETRY_AFTER_SECONDS = "1";

	/**
	 * By name: the clients' exception types live in libraries the gateway may not see.
	 */
	private static final Set<String> TYPES = Set.of("org.redisson.client.RedisTimeoutException",
			"org.redisson.client.RedisResponseTimeoutException", "org.redisson.client.RedisRetryException",
			"org.redisson.client.RedisConnectionException", "org.redisson.client.RedisNodeNotFoundException",
			"org.redisson.client.RedisLoadingException", "org.redisson.client.RedisTryAgainException",
			"org.springframework.dao.QueryTimeoutException",
			"org.springframework.data.redis.RedisConnectionFailureException",
			"org.springframework.dao.DataAccessResourceFailureException");

	private RedisUnavailable() {
	}

	static boolean isCause(Throwable failure) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			for (Class<?> type = cause.getClass(); type != null; type = type.getSuperclass()) {
				if (TYPES.contains(type.getName())) {
					return true;
				}
			}
			if (cause.getCause() == cause) {
				break;
			}
		}
		return false;
	}

	static ResponseEntity<ProblemDetail> problem(Throwable failure) {
		log.warn("Redis unavailable: {}", failure.toString());
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE,
				"The coordination store did not answer in time; the request may or may not have taken effect. "
						+ "Retry it: repeating it is safe.");
		return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
			.header(HttpHeaders.RETRY_AFTER, RETRY_AFTER_SECONDS)
			.body(problem);
	}

}
