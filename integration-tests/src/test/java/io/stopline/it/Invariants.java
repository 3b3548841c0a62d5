package io.stopline.it;

import java.time.Duration;
import java.util.List;

import io.stopline.testing.InvariantChecker;
import io.stopline.testing.OperationLog;

import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The {@link InvariantChecker} over a test that drives its own client: the client
 * ({@link #api()}) logs every stream and stop into an {@link OperationLog}, ownership is
 * sampled while the test runs, and {@link #assertHold} checks the log against the API and
 * Redis at the end and prints the counts.
 */
final class Invariants implements AutoCloseable {

	private final Api api;

	private final InvariantChecker checker;

	private Invariants(Api api, InvariantChecker checker) {
		this.api = api;
		this.checker = checker;
	}

	/** Starts logging {@code user}'s operations and sampling ownership. */
	static Invariants watch(String scenario, Api user, StringRedisTemplate redis) {
		OperationLog log = new OperationLog();
		InvariantChecker checker = new FaultClient(user, redis, log).checker(scenario).sampleOwnership();
		return new Invariants(user.recordingInto(log), checker);
	}

	/** The user's client, logging (through any gateway: {@link Api#at}). */
	Api api() {
		return api;
	}

	InvariantChecker checker() {
		return checker;
	}

	/**
	 * Stops whatever of the user's is still listed active, until nothing is (bounded):
	 * the scenario's runs are settled before the check.
	 */
	void stopEverything(Duration bound) {
		await().atMost(bound).pollInterval(Duration.ofMillis(250)).ignoreExceptions().untilAsserted(() -> {
			api.active().json().get("active_conversations").propertyNames().forEach(api::stop);
			assertThat(api.active().json().get("active_conversations").isEmpty()).as("nothing active").isTrue();
		});
	}

	/** Every invariant holds within the bound. */
	void assertHold(Duration bound) {
		List<String> violations = checker.check(bound);
		assertThat(violations).as("invariant violations").isEmpty();
	}

	@Override
	public void close() {
		checker.close();
	}

}
