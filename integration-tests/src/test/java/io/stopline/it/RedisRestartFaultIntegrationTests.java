package io.stopline.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import io.stopline.testing.InvariantChecker;
import io.stopline.testing.InvariantChecker.Listed;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.stopline.it.FaultScenario.BOUND;
import static io.stopline.it.FaultScenario.millis;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Redis restarted empty ({@code SHUTDOWN NOSAVE}, then a fresh server on the same port)
 * while a worker process runs about twenty long chats, right after another worker was
 * killed with SIGKILL. Every one of the surviving worker's conversations is stopped, the
 * stops 50 ms apart from just before the shutdown on (so the workers' finishes meet Redis
 * going down and coming back empty), each repeated until it is answered 200. A stop
 * answered 200 must have taken its run off the active listing for good: no listing read
 * after the 200 shows it (the confirmation leaves with the outcome's write, and a finish
 * that found its record gone restores it and finishes again). Every conversation must
 * take a new message within the bound once Redis is back.
 */
class RedisRestartFaultIntegrationTests {

	private final List<WorkerProcess> workers = new ArrayList<>();

	private TestRedis redis;

	@AfterEach
	void cleanUp() {
		workers.forEach(WorkerProcess::close);
		if (redis != null) {
			redis.close();
		}
	}

	/**
	 * @param reapedFirst wait until the killed worker's runs are reaped before the
	 * restart (else Redis goes down right after the kill)
	 * @param downSeconds how long Redis stays down
	 */
	@ParameterizedTest(name = "killed worker reaped first: {0}, Redis down {1} s")
	@CsvSource({ "false, 0", "true, 2" })
	void afterShutdownNosaveAndARestartAStopAnswered200TakesTheRunOffTheListing(boolean reapedFirst, int downSeconds)
			throws Exception {
		redis = TestRedis.dedicatedProcess();
		try (Cluster gateways = Cluster.start(redis, 2, 0, Map.of(), Map.of("stopline.gateway.max-active-runs-per-user",
				"1000", "stopline.gateway.stop-rate-limit.permits", "100000"))) {
			WorkerProcess survivor = worker(Map.of());
			FaultClient client = new FaultClient(gateways.api(0, "alice-" + UUID.randomUUID()), gateways.redis(0));
			FaultScenario.startLongRuns(client, "long", 20);
			WorkerProcess killed = worker(Map.of());
			FaultScenario.startLongRuns(client, "more", 10);
			List<String> onSurvivor = client.active()
				.stream()
				.filter(run -> survivor.id().equals(run.workerId()))
				.map(Listed::conversation)
				.toList();
			assertThat(onSurvivor).as("runs on the surviving worker").hasSizeGreaterThanOrEqualTo(20);
			String scenario = "redis SHUTDOWN NOSAVE + restart (reaped first " + reapedFirst + ", down " + downSeconds
					+ " s)";

			try (InvariantChecker checker = client.checker(scenario).sampleOwnership()) {
				killed.kill();
				if (reapedFirst) {
					await().atMost(BOUND)
						.until(() -> client.active().stream().noneMatch(run -> killed.id().equals(run.workerId())));
				}
				// the stops go out 50 ms apart from just before the shutdown on, so they
				// meet Redis going down, down, and back empty; each repeated until it is
				// 200
				long downAt;
				ListingSampler sampler = new ListingSampler(client);
				Map<String, Long> confirmedAt = new ConcurrentHashMap<>();
				// when the stop that was answered 200 was sent
				Map<String, Long> confirmedStopSentAt = new ConcurrentHashMap<>();
				List<Thread> stoppers = new ArrayList<>();
				long stopsFrom = System.nanoTime();
				for (int i = 0; i < onSurvivor.size(); i++) {
					String conversation = onSurvivor.get(i);
					long firstAt = stopsFrom + TimeUnit.MILLISECONDS.toNanos(50L * i);
					stoppers.add(Thread.ofVirtual().start(() -> {
						LockSupport.parkNanos(firstAt - System.nanoTime());
						long deadline = System.nanoTime() + BOUND.toNanos();
						while (System.nanoTime() < deadline) {
							long sentAt = System.nanoTime();
							if (client.stop(conversation) == 200) {
								confirmedAt.put(conversation, System.nanoTime());
								confirmedStopSentAt.put(conversation, sentAt);
								return;
							}
							LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
						}
					}));
				}
				LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(120));
				downAt = System.nanoTime();
				redis.shutdownNoSave();
				LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(downSeconds));
				redis = redis.restart();
				long upAt = System.nanoTime();
				for (Thread stopper : stoppers) {
					stopper.join(BOUND.plusSeconds(5));
				}
				// keep watching the listing a while after the last confirmation
				LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(6));
				sampler.close();

				long worstMillis = 0;
				List<String> listedAfter = new ArrayList<>();
				for (Map.Entry<String, Long> confirmed : confirmedAt.entrySet()) {
					Long last = sampler.lastListedAt(confirmed.getKey());
					if (last != null && last > confirmed.getValue()) {
						long after = millis(last - confirmed.getValue());
						worstMillis = Math.max(worstMillis, after);
						listedAfter.add(confirmed.getKey() + " +" + after + " ms");
					}
				}
				FaultScenario.stopEverything(client, BOUND);
				FaultScenario.awaitStreamsEnded(client, FaultScenario.turns(client), BOUND.plusSeconds(40));
				List<String> violations = checker.figure("restart_ms", millis(upAt - downAt))
					.figure("confirmed", confirmedAt.size() + "/" + onSurvivor.size())
					.figure("confirmed_before_down", confirmedAt.values().stream().filter(at -> at < downAt).count())
					.figure("listed_after_200", listedAfter.size())
					.figure("worst_listed_after_200_ms", worstMillis)
					.check(BOUND);
				System.out.printf(
						"[fault] %s: %d runs on the surviving worker (the other "
								+ "killed -9): %d of %d stops answered 200; %d runs still listed after their 200 "
								+ "(worst %d ms after it) %s; answers %s%n",
						scenario, onSurvivor.size(), confirmedAt.size(), onSurvivor.size(), listedAfter.size(),
						worstMillis, listedAfter, FaultScenario.sorted(client.stopAnswers()));
				assertThat(confirmedAt).as("every stop confirmed once Redis is back").hasSize(onSurvivor.size());
				assertThat(listedAfter).as("runs listed after their stop answered 200").isEmpty();
				// Redis kept nothing: what was recorded before it went down went with it
				// (the answers of the stops sent before the shutdown and confirmed, the
				// killed worker's runs); no answer recorded after it is lost
				List<String> recordedBefore = confirmedStopSentAt.entrySet()
					.stream()
					.filter(confirmed -> confirmed.getValue() < downAt)
					.map(Map.Entry::getKey)
					.toList();
				List<String> lost = InvariantChecker.ofKind(violations, "lost");
				assertThat(lost).allSatisfy(violation -> assertThat(onSurvivor.stream().noneMatch(violation::contains)
						|| recordedBefore.stream().anyMatch(violation::contains))
					.as(violation)
					.isTrue());
				assertThat(InvariantChecker.except(violations, "lost")).isEmpty();
			}
		}
	}

	private WorkerProcess worker(Map<String, String> properties) {
		WorkerProcess worker = WorkerProcess.start(redis.url(), "proc-" + UUID.randomUUID().toString().substring(0, 8),
				properties);
		workers.add(worker);
		return worker;
	}

	/**
	 * Reads the active listing every 50 ms; when each conversation was last seen in it.
	 */
	private static final class ListingSampler implements AutoCloseable {

		private final Map<String, Long> lastListedAt = new ConcurrentHashMap<>();

		private final AtomicBoolean running = new AtomicBoolean(true);

		private final Thread thread;

		ListingSampler(FaultClient client) {
			thread = Thread.ofVirtual().name("listing-sampler").start(() -> {
				while (running.get()) {
					// stamped before the request: a listing read after a 200 that still
					// shows the run is a fault, one begun before it is not
					long startedAt = System.nanoTime();
					try {
						client.active().forEach(run -> lastListedAt.put(run.conversation(), startedAt));
					}
					catch (RuntimeException ex) {
						// Redis not back yet
					}
					LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
				}
			});
		}

		Long lastListedAt(String conversation) {
			return lastListedAt.get(conversation);
		}

		@Override
		public void close() throws InterruptedException {
			running.set(false);
			thread.join(Duration.ofSeconds(5));
		}

	}

}
