package io.stopline.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Steps the fault scenarios share, each through a {@link FaultClient} (so logged). */
final class FaultScenario {

	/** Long enough to outlast every scenario (20 ms a token): stopped by the test. */
	static final int LONG_RUN = 3000;

	static final Duration BOUND = Duration.ofSeconds(30);

	private FaultScenario() {
	}

	/** Starts {@code count} long runs and waits until each is listed running. */
	static List<String> startLongRuns(FaultClient client, String prefix, int count) {
		List<String> conversations = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			String conversation = prefix + "-" + i + "-" + UUID.randomUUID().toString().substring(0, 8);
			client.send(conversation, LONG_RUN);
			conversations.add(conversation);
		}
		await().atMost(BOUND).untilAsserted(() -> {
			JsonNode active = client.api().active().json().get("active_conversations");
			// on a failure, what the listing and the client had seen say where it stuck
			conversations.forEach(
					id -> assertThat(active.has(id) && active.get(id).get("state").asString().equals("running"))
						.as("%s running; listed: %s; the client saw: %s", id, active,
								client.log()
									.ops()
									.stream()
									.filter(op -> op.conversation().equals(id))
									.map(op -> op.kind() + "=" + op.value())
									.limit(8)
									.toList())
						.isTrue());
		});
		return conversations;
	}

	/**
	 * Tries a new run and its stop until the stop is confirmed (200); the
	 * {@link System#nanoTime()} at which it first was.
	 */
	static long awaitStopWorks(FaultClient client, Duration bound) {
		long deadline = System.nanoTime() + bound.toNanos();
		while (System.nanoTime() < deadline) {
			String conversation = "probe-" + UUID.randomUUID().toString().substring(0, 8);
			try {
				String turn = client.send(conversation, LONG_RUN);
				if (client.runId(turn, Duration.ofSeconds(5)) != null && client.stop(conversation) == 200) {
					return System.nanoTime();
				}
				// a probe that did not work is stopped later with the rest
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException(ex);
			}
			catch (RuntimeException ex) {
				// not yet
			}
		}
		throw new AssertionError("stops did not work again within " + bound);
	}

	/**
	 * Stops every conversation of the log that is still listed active until none is
	 * (bounded); the answers are logged.
	 */
	static void stopEverything(FaultClient client, Duration bound) {
		await().atMost(bound).pollInterval(Duration.ofMillis(250)).ignoreExceptions().untilAsserted(() -> {
			JsonNode active = client.api().active().json().get("active_conversations");
			active.propertyNames().forEach(client::stop);
			assertThat(client.api().active().json().get("active_conversations").isEmpty()).as("nothing active")
				.isTrue();
		});
	}

	/** Waits for every stream the client opened to end. */
	static void awaitStreamsEnded(FaultClient client, Collection<String> turns, Duration bound)
			throws InterruptedException {
		for (String turn : turns) {
			assertThat(client.awaitEnd(turn, bound)).as("stream %s ended", turn).isTrue();
		}
	}

	/** Every turn the client has sent. */
	static List<String> turns(FaultClient client) {
		return client.log()
			.ops()
			.stream()
			.filter(op -> op.kind() == io.stopline.testing.OperationLog.Kind.SEND)
			.map(io.stopline.testing.OperationLog.Op::turn)
			.toList();
	}

	static Map<String, String> sorted(Map<String, Integer> counts) {
		Map<String, String> sorted = new LinkedHashMap<>();
		counts.entrySet()
			.stream()
			.sorted(Map.Entry.comparingByKey())
			.forEach(entry -> sorted.put(entry.getKey(), entry.getValue().toString()));
		return sorted;
	}

	static long millis(long nanos) {
		return nanos / 1_000_000;
	}

}
