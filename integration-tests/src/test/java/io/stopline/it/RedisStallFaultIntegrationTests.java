package io.stopline.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.stopline.testing.FaultProxy;
import io.stopline.testing.InvariantChecker;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.Test;

import static io.stopline.it.FaultScenario.BOUND;
import static io.stopline.it.FaultScenario.millis;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Redis alive but slow or stalled: {@code CLIENT PAUSE WRITE} across a claim and a
 * finish, {@code DEBUG SLEEP} (the server answers nothing for longer than the clients'
 * command timeout, so replies time out after their command ran), and latency added on
 * every connection by a {@link FaultProxy}. One gateway and two workers, each its own
 * context.
 */
class RedisStallFaultIntegrationTests {

	@Test
	void clientPauseWriteAcrossAClaimAndAFinish() throws Exception {
		try (TestRedis redis = TestRedis.dedicatedProcess();
				RedisInspector inspector = new RedisInspector(redis);
				Cluster cluster = Cluster.start(redis, 1, 2, Map.of())) {
			stall("CLIENT PAUSE 4000 WRITE", cluster, () -> {
				assertThat(inspector.command("CLIENT", "PAUSE", "4000", "WRITE")).isEqualTo("+OK");
				return System.nanoTime() + Duration.ofSeconds(4).toNanos();
			});
		}
	}

	@Test
	void debugSleepLongerThanTheCommandTimeout() throws Exception {
		try (TestRedis redis = TestRedis.dedicatedProcess("--enable-debug-command", "yes");
				RedisInspector inspector = new RedisInspector(redis);
				Cluster cluster = Cluster.start(redis, 1, 2, Map.of())) {
			stall("DEBUG SLEEP 4", cluster, () -> {
				// the reply comes when the sleep ends: sent from a thread of its own
				Thread.ofVirtual().start(() -> inspector.command("DEBUG", "SLEEP", "4"));
				return System.nanoTime() + Duration.ofSeconds(4).toNanos();
			});
		}
	}

	/**
	 * Latency on every connection of every node (both directions): what a stop costs at
	 * 10, 50 and 200 ms of round trip, and that nothing breaks meanwhile.
	 */
	@Test
	void addedLatencyThroughAProxy() throws Exception {
		try (TestRedis redis = TestRedis.dedicatedProcess();
				FaultProxy proxy = FaultProxy.to(redis.port());
				Cluster cluster = Cluster.start(Map.of("spring.data.redis.url", proxy.redisUrl()), 1, 2, Map.of(),
						Map.of())) {
			FaultClient client = new FaultClient(cluster.api(0, "alice-" + UUID.randomUUID()), cluster.redis(0));
			try (InvariantChecker checker = client.checker("latency").sampleOwnership()) {
				List<String> figures = new ArrayList<>();
				for (int roundTrip : new int[] { 0, 10, 50, 200 }) {
					proxy.latency(Duration.ofMillis(roundTrip / 2), Duration.ofMillis(roundTrip / 2));
					List<String> runs = FaultScenario.startLongRuns(client, "rtt" + roundTrip, 5);
					List<Long> latencies = new ArrayList<>();
					for (String run : runs) {
						long start = System.nanoTime();
						assertThat(client.stop(run)).as("stop at %d ms round trip", roundTrip).isEqualTo(200);
						latencies.add(millis(System.nanoTime() - start));
					}
					latencies.sort(Long::compare);
					figures.add("+" + roundTrip + " ms RTT: stop p50 " + latencies.get(2) + " ms, max "
							+ latencies.get(4) + " ms");
					checker.figure("stop_p50_ms_at_rtt_" + roundTrip, latencies.get(2));
				}
				proxy.latency(Duration.ZERO, Duration.ZERO);
				FaultScenario.awaitStreamsEnded(client, FaultScenario.turns(client), BOUND);
				List<String> violations = checker.check(BOUND);
				System.out.println("[fault] latency through the proxy: " + String.join("; ", figures));
				assertThat(violations).isEmpty();
			}
		}
	}

	/** When the stall ends (nanoTime). */
	interface Stall {

		long start() throws Exception;

	}

	/**
	 * Three long runs and a short one that ends during the stall; during it a stop of two
	 * long runs and two new chats (their claims); then the time until stops work again,
	 * everything stopped, and the invariants.
	 */
	private static void stall(String scenario, Cluster cluster, Stall stall) throws Exception {
		FaultClient client = new FaultClient(cluster.api(0, "alice-" + UUID.randomUUID()), cluster.redis(0));
		List<String> runs = FaultScenario.startLongRuns(client, "long", 3);
		// ends about 1.5 s into the stall: its finish waits for Redis
		String shortRun = "short-" + UUID.randomUUID().toString().substring(0, 8);
		client.send(shortRun, 75);
		try (InvariantChecker checker = client.checker(scenario).sampleOwnership()) {
			long stalledAt = System.nanoTime();
			long endsAt = stall.start();
			List<Thread> during = new ArrayList<>();
			during.add(Thread.ofVirtual().start(() -> client.stop(runs.get(0))));
			during.add(Thread.ofVirtual().start(() -> client.stop(runs.get(1))));
			during.add(Thread.ofVirtual().start(() -> client.send("during-a-" + UUID.randomUUID(), 50)));
			during.add(Thread.ofVirtual().start(() -> client.send("during-b-" + UUID.randomUUID(), 50)));
			long worksAt = FaultScenario.awaitStopWorks(client, BOUND);
			for (Thread thread : during) {
				thread.join(BOUND);
			}
			FaultScenario.stopEverything(client, BOUND);
			FaultScenario.awaitStreamsEnded(client, FaultScenario.turns(client), BOUND);
			List<String> violations = checker.figure("stops_work_ms", millis(worksAt - stalledAt))
				.figure("after_stall_ms", millis(worksAt - endsAt))
				.check(BOUND);
			System.out.printf(
					"[fault] %s: stops work again after %.1f s (%.1f s after the stall ended), " + "stop answers %s%n",
					scenario, (worksAt - stalledAt) / 1e9, (worksAt - endsAt) / 1e9,
					FaultScenario.sorted(client.stopAnswers()));
			assertThat(client.stopAnswers().keySet()).as("a stop during the fault: 503 at worst, never a 500")
				.isSubsetOf("200", "202", "404", "503");
			assertThat(violations).isEmpty();
		}
	}

}
