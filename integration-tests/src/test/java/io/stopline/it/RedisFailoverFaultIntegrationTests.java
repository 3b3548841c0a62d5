package io.stopline.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.ToIntFunction;
import java.util.function.IntConsumer;

import io.stopline.testing.InvariantChecker;
import io.stopline.testing.RedisTopology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static io.stopline.it.FaultScenario.BOUND;
import static io.stopline.it.FaultScenario.millis;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Failovers that lose writes: the master is killed with {@code kill -9} (not
 * {@code SENTINEL FAILOVER}, which waits for the replica to catch up), while chats and
 * stops are under way, on Sentinel and on Redis Cluster. Replication is asynchronous, so
 * a write the master acknowledged in its last moments may be missing on the promoted
 * replica: the scenario counts those ({@code lost}) and holds every other invariant.
 */
class RedisFailoverFaultIntegrationTests {

	@Test
	void sentinelMasterKilledDuringChatsAndStops() throws Exception {
		try (RedisTopology redis = RedisTopology.sentinel();
				Cluster cluster = Cluster.start(redis.springProperties(), 1, 2, Map.of(), Map.of())) {
			printWaitCost(redis.masterPort());
			run("sentinel master kill -9", cluster, user -> redis.killMaster(), redis::awaitNewMaster);
		}
	}

	@Test
	void clusterMasterKilledDuringChatsAndStops() throws Exception {
		try (RedisTopology redis = RedisTopology.cluster();
				Cluster cluster = Cluster.start(redis.springProperties(), 1, 2, Map.of(), Map.of())) {
			run("cluster master kill -9", cluster,
					user -> redis.killClusterMasterOf(io.stopline.core.schema.Keys.runs(user)),
					redis::awaitClusterPromotion);
		}
	}

	/**
	 * What {@code min-replicas-to-write 1} ({@code min-replicas-max-lag 2}) on the master
	 * trades, against the default 0. Ten stops measure the latency; then the replica is
	 * frozen (SIGSTOP), so it stops acknowledging the master's stream, while the other
	 * ten runs are stopped one every 400 ms, at least the last three once the master's
	 * INFO says the replica lags past the limit (about 5 s in all). Without the setting
	 * every stop is confirmed and its write exists only on the master (a {@code kill -9}
	 * of the master in that window loses it: {@code at_risk}); with it the master refuses
	 * writes once the replica's last acknowledgement is older than the lag, and those
	 * stops answer 503 + {@code Retry-After} until the replica is back. Every invariant
	 * holds either way.
	 */
	@ParameterizedTest(name = "min-replicas-to-write {0}")
	@ValueSource(ints = { 0, 1 })
	void aFrozenReplicaWithAndWithoutMinReplicasToWrite(int minReplicas) throws Exception {
		try (RedisTopology redis = RedisTopology.sentinel();
				Cluster cluster = Cluster.start(redis.springProperties(), 1, 2, Map.of(),
						Map.of("stopline.gateway.stop-rate-limit.permits", "100000"))) {
			RedisTopology.cli(redis.masterPort(), "CONFIG", "SET", "min-replicas-to-write",
					Integer.toString(minReplicas), "min-replicas-max-lag", "2");
			String scenario = "sentinel replica frozen past the lag, min-replicas-to-write " + minReplicas;
			FaultClient client = new FaultClient(cluster.api(0, "alice-" + UUID.randomUUID()), cluster.redis(0));
			List<String> runs = FaultScenario.startLongRuns(client, "long", 20);
			List<Long> latencies = new ArrayList<>();
			for (String run : runs.subList(0, 10)) {
				long started = System.nanoTime();
				assertThat(client.stop(run)).isEqualTo(200);
				latencies.add(System.nanoTime() - started);
			}
			latencies.sort(null);
			try (InvariantChecker checker = client.checker(scenario).sampleOwnership()) {
				int replica = redis.replicaPort();
				Map<Integer, Integer> during = new java.util.TreeMap<>();
				long firstRefusal = -1;
				Map<Integer, Integer> afterLag = new java.util.TreeMap<>();
				long frozenAt = System.nanoTime();
				redis.pause(replica);
				try {
					// the master checks acknowledgements once a second, so when it starts
					// refusing varies by a second or two: stops go on every 400 ms while
					// it still counts the replica, at least the last three once its INFO
					// says it does not
					boolean lagging = false;
					for (int index = 10; index < 20; index++) {
						if (!lagging) {
							lagging = masterCountsReplicaLagging(redis.masterPort(), minReplicas);
						}
						if (!lagging && index == 17) {
							org.awaitility.Awaitility.await("the master counts the frozen replica as lagging")
								.atMost(BOUND)
								.pollInterval(Duration.ofMillis(50))
								.until(() -> masterCountsReplicaLagging(redis.masterPort(), minReplicas));
							lagging = true;
						}
						int status = client.stop(runs.get(index));
						during.merge(status, 1, Integer::sum);
						if (lagging) {
							afterLag.merge(status, 1, Integer::sum);
						}
						if (status == 503 && firstRefusal < 0) {
							firstRefusal = System.nanoTime() - frozenAt;
						}
						java.util.concurrent.locks.LockSupport.parkNanos(400_000_000L);
					}
				}
				finally {
					redis.resume(replica);
				}
				long resumedAt = System.nanoTime();
				long worksAt = FaultScenario.awaitStopWorks(client, BOUND);
				FaultScenario.stopEverything(client, BOUND);
				FaultScenario.awaitStreamsEnded(client, FaultScenario.turns(client), BOUND);
				int atRisk = minReplicas == 0 ? during.getOrDefault(200, 0) : 0;
				List<String> violations = checker.figure("stop_p50_us", latencies.get(5) / 1000)
					.figure("first_refusal_ms", firstRefusal < 0 ? -1 : millis(firstRefusal))
					.figure("at_risk", atRisk)
					.check(BOUND);
				System.out.printf(
						"[fault] %s: stop p50 %d µs (max %d µs) before; during the freeze stops answered %s, "
								+ "first refusal %d ms after the freeze; %d confirmed stops existed only on the "
								+ "master; stops work again %d ms after the replica resumed%n",
						scenario, latencies.get(5) / 1000, latencies.get(9) / 1000, during,
						firstRefusal < 0 ? -1 : millis(firstRefusal), atRisk, millis(worksAt - resumedAt));
				assertThat(during.keySet()).as("never a 500").isSubsetOf(200, 202, 503);
				if (minReplicas == 0) {
					assertThat(during).as("nothing refused without the setting").containsOnlyKeys(200);
				}
				else {
					assertThat(afterLag).as("every write refused once the master counts no good replica")
						.containsOnlyKeys(503);
				}
				assertThat(violations).isEmpty();
			}
		}
	}

	/**
	 * Whether the master no longer counts its replica as good for
	 * {@code min-replicas-to-write} ({@code min_slaves_good_slaves:0}, refreshed once a
	 * second), or, without the setting, reports it more than {@code min-replicas-max-lag}
	 * (2 s) behind.
	 */
	private static boolean masterCountsReplicaLagging(int masterPort, int minReplicas) {
		String info = RedisTopology.cli(masterPort, "INFO", "replication");
		if (minReplicas > 0) {
			return info.lines().anyMatch(line -> line.strip().equals("min_slaves_good_slaves:0"));
		}
		java.util.regex.Matcher lag = java.util.regex.Pattern.compile("slave0:.*lag=(\\d+)").matcher(info);
		return lag.find() && Integer.parseInt(lag.group(1)) > 2;
	}

	/**
	 * Six long runs, one stopped before the fault; the kill; right after it two stops and
	 * two new chats; then the time until a new run can be started and stopped again
	 * (200), every remaining run stopped, and the invariants.
	 */
	private static void run(String scenario, Cluster cluster, ToIntFunction<String> kill, IntConsumer awaitPromotion)
			throws Exception {
		FaultClient client = new FaultClient(cluster.api(0, "alice-" + UUID.randomUUID()), cluster.redis(0));
		List<String> runs = FaultScenario.startLongRuns(client, "long", 6);
		assertThat(client.stop(runs.get(0))).isEqualTo(200);
		try (InvariantChecker checker = client.checker(scenario).sampleOwnership()) {
			long killedAt = System.nanoTime();
			int killed = kill.applyAsInt(client.api().userId());
			List<Thread> during = new ArrayList<>();
			during.add(Thread.ofVirtual().start(() -> client.stop(runs.get(1))));
			during.add(Thread.ofVirtual().start(() -> client.stop(runs.get(2))));
			during.add(Thread.ofVirtual().start(() -> client.send("during-a-" + UUID.randomUUID(), 50)));
			during.add(Thread.ofVirtual().start(() -> client.send("during-b-" + UUID.randomUUID(), 50)));
			awaitPromotion.accept(killed);
			long promotedAt = System.nanoTime();
			long worksAt = FaultScenario.awaitStopWorks(client, BOUND);
			for (Thread thread : during) {
				thread.join(BOUND);
			}
			FaultScenario.stopEverything(client, BOUND);
			FaultScenario.awaitStreamsEnded(client, FaultScenario.turns(client), BOUND);
			List<String> violations = checker.figure("promoted_ms", millis(promotedAt - killedAt))
				.figure("stops_work_ms", millis(worksAt - killedAt))
				.check(BOUND);
			// what asynchronous replication may lose: an answer, or a confirmed stop's
			// outcome (the run then ends interrupted by the ownership check)
			List<String> lost = new ArrayList<>(InvariantChecker.ofKind(violations, "lost"));
			lost.addAll(InvariantChecker.ofKind(violations, "stop-not-kept"));
			System.out.printf(
					"[fault] %s: promoted after %.1f s, stops work again after %.1f s, lost writes %d, "
							+ "stop answers %s%n",
					scenario, (promotedAt - killedAt) / 1e9, (worksAt - killedAt) / 1e9, lost.size(),
					FaultScenario.sorted(client.stopAnswers()));
			assertThat(client.stopAnswers().keySet()).as("a stop during the fault: 503 at worst, never a 500")
				.isSubsetOf("200", "202", "404", "503");
			assertThat(InvariantChecker.except(violations, "lost", "stop-not-kept")).isEmpty();
		}
	}

	/**
	 * What {@code WAIT 1 <ms>} after a write costs here (it is what would make an
	 * acknowledged write survive a {@code kill -9} of the master): p50 of a SET alone and
	 * of a SET followed by WAIT, on loopback, over one raw connection to the master.
	 */
	private static void printWaitCost(int masterPort) throws java.io.IOException {
		int rounds = 200;
		long[] plain = new long[rounds];
		long[] waited = new long[rounds];
		int acknowledged = 0;
		try (java.net.Socket socket = new java.net.Socket("127.0.0.1", masterPort)) {
			socket.setSoTimeout(5000);
			java.io.BufferedReader in = new java.io.BufferedReader(
					new java.io.InputStreamReader(socket.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
			java.io.OutputStream out = socket.getOutputStream();
			for (int i = 0; i < rounds; i++) {
				long start = System.nanoTime();
				out.write(resp("SET", "stopline:wait-probe", Integer.toString(i)));
				in.readLine();
				plain[i] = System.nanoTime() - start;
				start = System.nanoTime();
				out.write(resp("SET", "stopline:wait-probe", Integer.toString(i)));
				in.readLine();
				out.write(resp("WAIT", "1", "100"));
				String replicas = in.readLine();
				waited[i] = System.nanoTime() - start;
				if (replicas.startsWith(":") && Integer.parseInt(replicas.substring(1)) >= 1) {
					acknowledged++;
				}
			}
			out.write(resp("DEL", "stopline:wait-probe"));
			in.readLine();
		}
		java.util.Arrays.sort(plain);
		java.util.Arrays.sort(waited);
		System.out.printf(
				"[fault] replication: SET p50 %d µs, SET + WAIT 1 100 p50 %d µs (p99 %d µs), "
						+ "acknowledged by the replica %d of %d%n",
				plain[rounds / 2] / 1000, waited[rounds / 2] / 1000, waited[rounds * 99 / 100] / 1000, acknowledged,
				rounds);
	}

	private static byte[] resp(String... args) {
		StringBuilder request = new StringBuilder("*").append(args.length).append("\r\n");
		for (String arg : args) {
			request.append('$').append(arg.length()).append("\r\n").append(arg).append("\r\n");
		}
		return request.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
	}

}
