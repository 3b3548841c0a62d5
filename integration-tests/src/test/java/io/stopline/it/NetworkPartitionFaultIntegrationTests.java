package io.stopline.it;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.stopline.testing.FaultProxy;
import io.stopline.testing.InvariantChecker;
import io.stopline.testing.NetworkNamespace;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.stopline.it.FaultScenario.BOUND;
import static io.stopline.it.FaultScenario.millis;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A worker cut off from Redis by a real network partition: the worker process runs in a
 * network namespace of its own and reaches Redis over a veth pair (through a
 * {@link FaultProxy} on the host's end, since Redis listens on loopback); the partition
 * drops every packet both ways ({@code iptables -j DROP} inside the namespace), so its
 * connections hang instead of failing. 5 s (shorter than the 10 s heartbeat TTL) and 15 s
 * (longer: its runs are reaped meanwhile) here; 60 s with
 * {@code -Dstopline.fault.soak=true}. Skipped, saying why, where namespaces cannot be
 * made (not root, no {@code iptables}).
 */
class NetworkPartitionFaultIntegrationTests {

	@BeforeAll
	static void namespacesAvailable() {
		Assumptions.assumeTrue(NetworkNamespace.unavailable().isEmpty(),
				() -> "network partitions skipped: " + NetworkNamespace.unavailable().orElse(""));
	}

	@Test
	void aFiveSecondPartitionShorterThanTheTtl() throws Exception {
		partition(Duration.ofSeconds(5));
	}

	@Test
	void aFifteenSecondPartitionLongerThanTheTtl() throws Exception {
		partition(Duration.ofSeconds(15));
	}

	@Test
	void aSixtySecondPartitionInTheSoak() throws Exception {
		Assumptions.assumeTrue(Boolean.getBoolean("stopline.fault.soak"), "60 s partition: -Dstopline.fault.soak=true");
		partition(Duration.ofSeconds(60));
	}

	/**
	 * Three long runs on the namespaced worker, a second worker on the host; during the
	 * partition a stop of one of them and a new message to another conversation; after
	 * the heal: how long until the cut-off worker's stop is carried out (or its runs were
	 * reaped), every run stopped, and the invariants.
	 */
	private static void partition(Duration length) throws Exception {
		try (TestRedis redis = TestRedis.dedicatedProcess();
				NetworkNamespace namespace = NetworkNamespace.create();
				FaultProxy proxy = FaultProxy.listening(namespace.hostAddress(), 0, redis.port());
				Cluster cluster = Cluster.start(redis, 1, 0, Map.of());
				WorkerProcess isolated = WorkerProcess.start(proxy.redisUrl(),
						"netns-" + UUID.randomUUID().toString().substring(0, 8), Map.of(), namespace.commandPrefix())) {
			FaultClient client = new FaultClient(cluster.api(0, "alice-" + UUID.randomUUID()), cluster.redis(0));
			List<String> runs = FaultScenario.startLongRuns(client, "cut", 3);
			cluster.addWorker("host-" + UUID.randomUUID().toString().substring(0, 8), Map.of());
			String scenario = "partition " + length.toSeconds() + " s";
			try (InvariantChecker checker = client.checker(scenario).sampleOwnership()) {
				long cutAt = System.nanoTime();
				namespace.partition();
				int stopDuring = client.stop(runs.get(0));
				// past the cut-off worker's last blocking queue read (2 s), which Redis
				// could still have answered with the new job into the void
				Thread.sleep(2500);
				String other = "during-" + UUID.randomUUID().toString().substring(0, 8);
				String otherTurn = client.send(other, 20);
				boolean otherServed = client.awaitEnd(otherTurn, BOUND);
				long left = length.toNanos() - (System.nanoTime() - cutAt);
				if (left > 0) {
					Thread.sleep(Duration.ofNanos(left));
				}
				namespace.heal();
				long healedAt = System.nanoTime();
				long worksAt = FaultScenario.awaitStopWorks(client, BOUND);
				// the stop sent during the partition: carried out (or the run reaped)
				await(() -> !client.api().active().json().get("active_conversations").has(runs.get(0)));
				long firstStopSettledAt = System.nanoTime();
				FaultScenario.stopEverything(client, BOUND);
				FaultScenario.awaitStreamsEnded(client, FaultScenario.turns(client), BOUND);
				String outcome = client.history(runs.get(0))
					.stream()
					.filter(message -> message.role().equals("assistant"))
					.map(InvariantChecker.Message::status)
					.findFirst()
					.orElse("none");
				List<String> violations = checker.figure("stops_work_after_heal_ms", millis(worksAt - healedAt))
					.figure("stop_during_partition", stopDuring)
					.check(BOUND);
				System.out.printf("[fault] partition of a worker for %d s: a stop during it answered %d and ended "
						+ "%s %.1f s after the heal; a new chat during it %s; stops work again %.1f s after the heal%n",
						length.toSeconds(), stopDuring, outcome, (firstStopSettledAt - healedAt) / 1e9,
						otherServed ? "was served by the other worker" : "was not served", (worksAt - healedAt) / 1e9);
				assertThat(stopDuring).isIn(200, 202);
				assertThat(otherServed).as("a new chat during the partition is served by the other worker").isTrue();
				assertThat(violations).isEmpty();
			}
		}
	}

	private static void await(java.util.concurrent.Callable<Boolean> condition) {
		org.awaitility.Awaitility.await().atMost(BOUND).ignoreExceptions().until(condition);
	}

}
