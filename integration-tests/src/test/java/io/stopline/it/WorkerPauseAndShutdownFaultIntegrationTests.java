package io.stopline.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.stopline.testing.InvariantChecker;
import io.stopline.testing.InvariantChecker.Message;
import io.stopline.testing.OperationLog;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.stopline.it.FaultScenario.BOUND;
import static io.stopline.it.FaultScenario.millis;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A worker process frozen past its heartbeat TTL while its conversation moves on
 * elsewhere, and a worker shut down with SIGTERM under its default settings while it runs
 * long answers. Workers are processes from the built jar; the gateway is a context.
 */
class WorkerPauseAndShutdownFaultIntegrationTests {

	private final List<WorkerProcess> workers = new ArrayList<>();

	@AfterEach
	void closeWorkers() {
		workers.forEach(WorkerProcess::close);
	}

	/**
	 * SIGSTOP of the owner of a long run past its TTL (3 s here); the run is reaped; two
	 * more runs of the same conversation complete on another worker; SIGCONT. The woken
	 * worker must not come back as the owner of its old run (nor generate for it), and
	 * the history holds each run's answer once.
	 */
	@Test
	void aWorkerFrozenPastItsTtlDoesNotReclaimItsOldRun() throws Exception {
		try (TestRedis redis = TestRedis.dedicatedProcess(); Cluster gateways = Cluster.start(redis, 1, 0, Map.of())) {
			WorkerProcess frozen = worker(redis, Map.of("stopline.worker.heartbeat-ttl", "3s"));
			FaultClient client = new FaultClient(gateways.api(0, "alice-" + UUID.randomUUID()), gateways.redis(0));
			String conversation = FaultScenario.startLongRuns(client, "frozen", 1).get(0);
			String oldRun = client.runId(conversation + "#1", BOUND);
			try (InvariantChecker checker = client.checker("worker SIGSTOP past TTL").sampleOwnership()) {
				long pausedAt = System.nanoTime();
				frozen.pause();
				worker(redis, Map.of("stopline.worker.heartbeat-ttl", "3s"));
				await().atMost(BOUND)
					.until(() -> !client.api().active().json().get("active_conversations").has(conversation));
				long reapedAt = System.nanoTime();
				for (int i = 0; i < 2; i++) {
					String turn = client.send(conversation, 10);
					assertThat(client.awaitEnd(turn, BOUND)).isTrue();
				}
				frozen.resume();
				long resumedAt = System.nanoTime();
				// the woken worker's next heartbeat comes within a third of its TTL:
				// watch whether its old run comes back for 3 s, and at least 1.5 s after
				// that heartbeat is seen (a worker slow to wake must not pass by silence)
				List<String> relisted = new ArrayList<>();
				long[] awakeAt = { -1 };
				await("the woken worker heartbeats again within the bound, then 1.5 s more")
					.atMost(BOUND.plusMillis(1500))
					.pollInterval(Duration.ofMillis(100))
					.until(() -> {
						client.active()
							.stream()
							.filter(run -> run.runId().equals(oldRun))
							.forEach(run -> relisted.add(run.workerId()));
						long now = System.nanoTime();
						if (awakeAt[0] < 0 && Boolean.TRUE
							.equals(gateways.redis(0).hasKey(io.stopline.core.schema.Keys.workerAlive(frozen.id())))) {
							awakeAt[0] = now;
						}
						return now - resumedAt >= Duration.ofSeconds(3).toNanos() && awakeAt[0] >= 0
								&& now - awakeAt[0] >= Duration.ofMillis(1500).toNanos();
					});
				List<String> violations = checker.figure("reaped_after_ms", millis(reapedAt - pausedAt))
					.figure("old_run_relisted_samples", relisted.size())
					.check(BOUND);
				long answers = client.history(conversation)
					.stream()
					.filter(message -> message.role().equals("assistant") && oldRun.equals(message.runId()))
					.count();
				System.out.printf(
						"[fault] worker SIGSTOP past its TTL: reaped after %.1f s; after SIGCONT its old run "
								+ "was listed again in %d samples; answers of the old run in the history: %d%n",
						(reapedAt - pausedAt) / 1e9, relisted.size(), answers);
				assertThat(relisted).as("the old run listed again after SIGCONT").isEmpty();
				assertThat(answers).isEqualTo(1);
				assertThat(violations).isEmpty();
			}
		}
	}

	/**
	 * SIGTERM with the default settings ({@code shutdown-grace} 10 s,
	 * {@code heartbeat-ttl} 10 s) while three 60-second answers stream: each is stopped
	 * with reason {@code shutdown}, the partial answer the client saw is the one
	 * recorded, and the client is told.
	 */
	@Test
	void sigtermWithDefaultSettingsKeepsThePartialAnswers() throws Exception {
		try (TestRedis redis = TestRedis.dedicatedProcess(); Cluster gateways = Cluster.start(redis, 1, 0, Map.of())) {
			WorkerProcess worker = worker(redis, Map.of());
			FaultClient client = new FaultClient(gateways.api(0, "alice-" + UUID.randomUUID()), gateways.redis(0));
			List<String> runs = FaultScenario.startLongRuns(client, "term", 3);
			try (InvariantChecker checker = client.checker("SIGTERM default settings").sampleOwnership()) {
				long signalled = System.nanoTime();
				worker.terminate();
				int exit = worker.awaitExit(Duration.ofSeconds(40));
				long exitedAt = System.nanoTime();
				FaultScenario.awaitStreamsEnded(client, FaultScenario.turns(client), BOUND);
				List<String> outcomes = new ArrayList<>();
				List<Message> answers = new ArrayList<>();
				List<String> streams = new ArrayList<>();
				int kept = 0;
				for (String conversation : runs) {
					String streamed = streamed(client, conversation + "#1");
					Message answer = client.history(conversation)
						.stream()
						.filter(message -> message.role().equals("assistant"))
						.findFirst()
						.orElseThrow();
					outcomes.add(answer.status() + "/" + answer.content().length() + " of " + streamed.length());
					kept += answer.content().length();
					answers.add(answer);
					streams.add(streamed);
				}
				// the worker is gone: new messages go to a new one
				worker(redis, Map.of());
				List<String> violations = checker.figure("exit_ms", millis(exitedAt - signalled)).check(BOUND);
				System.out.printf(
						"[fault] SIGTERM with default settings: exited (%d) after %.1f s; answers "
								+ "(status/recorded of streamed chars) %s, %d chars kept%n",
						exit, (exitedAt - signalled) / 1e9, outcomes, kept);
				for (int i = 0; i < runs.size(); i++) {
					assertThat(answers.get(i).status()).as("%s", runs.get(i)).isEqualTo("stopped");
					assertThat(answers.get(i).content()).as("%s: the partial answer is kept", runs.get(i))
						.isNotEmpty()
						.isEqualTo(streams.get(i));
				}
				assertThat(violations).isEmpty();
			}
		}
	}

	private static String streamed(FaultClient client, String turn) {
		StringBuilder text = new StringBuilder();
		client.log()
			.ops()
			.stream()
			.filter(op -> op.turn().equals(turn) && op.kind() == OperationLog.Kind.TOKEN)
			.forEach(op -> text.append(op.value()));
		return text.toString();
	}

	private WorkerProcess worker(TestRedis redis, Map<String, String> properties) {
		WorkerProcess worker = WorkerProcess.start(redis.url(), "proc-" + UUID.randomUUID().toString().substring(0, 8),
				properties);
		workers.add(worker);
		return worker;
	}

}
