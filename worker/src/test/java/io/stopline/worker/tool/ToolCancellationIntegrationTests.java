package io.stopline.worker.tool;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import io.stopline.protocol.StartRun;
import io.stopline.testing.McpTestServer;
import io.stopline.protocol.ToolCallRecord;
import io.stopline.protocol.ToolCallRecord.Status;
import io.stopline.worker.model.ToolRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static io.stopline.worker.tool.McpTestServers.awaitLine;
import static io.stopline.worker.tool.McpTestServers.find;
import static io.stopline.worker.tool.ScriptedModel.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The tool loop against real MCP servers ({@link McpTestServer}, a process each, built
 * with the SDK) over stdio and Streamable HTTP. A stop is what a stop does to a run: an
 * interrupt of the run's thread. Each stop prints {@code [tools]} with the time from the
 * stop to the server seeing the cancellation, and to the run's end.
 */
class ToolCancellationIntegrationTests {

	/** Generous for a loaded 2-core machine; the target is 50 ms, printed each time. */
	private static final Duration CANCEL_BOUND = Duration.ofMillis(1000);

	/**
	 * Below the tool loop's 250 ms bound on sending a cancel: a run that waited for an
	 * unanswered one would take that long (6 ms is usual here).
	 */
	private static final Duration UNDER_NOTIFY_BOUND = Duration.ofMillis(240);

	private static final Duration WAIT = Duration.ofSeconds(30);

	@TempDir
	Path dir;

	private Path record;

	private final McpTestServers servers = new McpTestServers();

	private McpTools tools;

	private final ToolCallLog log = new ToolCallLog();

	private final Hooks hooks = new Hooks();

	@BeforeEach
	void record() {
		record = dir.resolve("record.txt");
	}

	@AfterEach
	void close() {
		if (tools != null) {
			tools.close();
		}
		servers.close();
	}

	@ParameterizedTest
	@EnumSource(ToolProperties.Transport.class)
	void stopDuringTheCallCancelsItAtTheServer(ToolProperties.Transport transport) throws Exception {
		Run run = start(transport, new ScriptedModel(List.of(List.of(call("c1", "block", "{}"))), 0, Duration.ZERO));
		String id = awaitLine(record, "call", "block", WAIT)[2];
		hooks.awaitStarted();

		long stoppedAt = run.stop();
		assertThat(run.outcome()).isEqualTo("stopped");
		long endedAt = run.endedAt();
		String[] cancelled = awaitLine(record, "cancelled", id, CANCEL_BOUND);
		long seenAt = Long.parseLong(cancelled[0]);
		System.out.printf("[tools] transport=%s stop->cancel seen by server %.1f ms, stop->run ended %.1f ms%n",
				transport, (seenAt - stoppedAt) / 1000.0, (endedAt - stoppedAt) / 1000.0);
		assertThat(cancelled[3]).isEqualTo(CancellableTransport.CANCEL_REASON.replace(' ', '_'));
		if (transport == ToolProperties.Transport.HTTP) {
			long closedAt = Long.parseLong(awaitLine(record, "closed", id, CANCEL_BOUND)[0]);
			System.out.printf("[tools] transport=HTTP stop->response stream closed at the server %.1f ms%n",
					(closedAt - stoppedAt) / 1000.0);
		}
		assertThat(log.records()).extracting(ToolCallRecord::status).containsExactly(Status.CANCELLED_BEFORE_RESULT);
		assertThat(log.records().get(0).resultChars()).isZero();
	}

	@ParameterizedTest
	@EnumSource(ToolProperties.Transport.class)
	void twoParallelCallsAreBothCancelled(ToolProperties.Transport transport) throws Exception {
		Run run = start(transport, new ScriptedModel(
				List.of(List.of(call("c1", "block", "{}"), call("c2", "block", "{}"))), 0, Duration.ZERO));
		await().atMost(WAIT)
			.until(() -> McpTestServers.lines(record).stream().filter(line -> line[1].equals("call")).count() == 2);
		List<String> ids = McpTestServers.lines(record)
			.stream()
			.filter(line -> line[1].equals("call"))
			.map(line -> line[2])
			.toList();

		long stoppedAt = run.stop();
		assertThat(run.outcome()).isEqualTo("stopped");
		for (String id : ids) {
			long seenAt = Long.parseLong(awaitLine(record, "cancelled", id, CANCEL_BOUND)[0]);
			System.out.printf("[tools] transport=%s parallel call %s: stop->cancel seen by server %.1f ms%n", transport,
					id, (seenAt - stoppedAt) / 1000.0);
		}
		assertThat(ids).doesNotHaveDuplicates();
		assertThat(log.records()).extracting(ToolCallRecord::status)
			.containsExactly(Status.CANCELLED_BEFORE_RESULT, Status.CANCELLED_BEFORE_RESULT);
	}

	@ParameterizedTest
	@EnumSource(ToolProperties.Transport.class)
	void stopAfterTheResultRecordsItCompleted(ToolProperties.Transport transport) throws Exception {
		// after the call the model answers slowly: the stop comes while it does
		Run run = start(transport, new ScriptedModel(List.of(List.of(call("c1", "echo", "{\"text\":\"hello\"}"))), 1000,
				Duration.ofMillis(20)));
		awaitLine(record, "completed", "echo", WAIT);
		await().atMost(WAIT).until(() -> hooks.tokens.size() >= 2);

		run.stop();
		assertThat(run.outcome()).isEqualTo("stopped");
		assertThat(log.records()).singleElement().satisfies(call -> {
			assertThat(call.status()).isEqualTo(Status.COMPLETED);
			assertThat(call.resultChars()).isEqualTo("hello".length());
		});
		assertThat(log.history("r1", Instant.now())).singleElement()
			.satisfies(message -> assertThat(message.content()).isEqualTo("hello"));
		assertThat(find(record, "cancelled", "echo")).isEmpty();
		assertThat(McpTestServers.lines(record)).noneMatch(line -> line[1].equals("cancelled"));
	}

	@ParameterizedTest
	@EnumSource(ToolProperties.Transport.class)
	void pauseLetsTheCallFinishAndHoldsTheNextModelTurnUntilResumed(ToolProperties.Transport transport)
			throws Exception {
		ScriptedModel model = new ScriptedModel(List.of(List.of(call("c1", "slow", "{\"ms\":1500}")),
				List.of(call("c2", "echo", "{\"text\":\"after\"}"))), 3, Duration.ofMillis(1));
		Run run = start(transport, model);
		awaitLine(record, "call", "slow", WAIT);
		hooks.pause();

		awaitLine(record, "completed", "slow", WAIT);
		await().atMost(WAIT).until(() -> hooks.waitingAtGate);
		assertThat(model.turnsTaken).hasValue(1);
		assertThat(find(record, "call", "echo")).isEmpty();

		hooks.resume();
		assertThat(run.outcome()).isEqualTo("completed");
		assertThat(model.results).containsExactly("slept 1500", "after");
		assertThat(log.records()).extracting(ToolCallRecord::status)
			.containsExactly(Status.COMPLETED, Status.COMPLETED);
	}

	@ParameterizedTest
	@EnumSource(ToolProperties.Transport.class)
	void stopWhilePausedNeverMakesTheNextCall(ToolProperties.Transport transport) throws Exception {
		ScriptedModel model = new ScriptedModel(
				List.of(List.of(call("c1", "slow", "{\"ms\":1000}")), List.of(call("c2", "block", "{}"))), 0,
				Duration.ZERO);
		Run run = start(transport, model);
		awaitLine(record, "call", "slow", WAIT);
		hooks.pause();
		await().atMost(WAIT).until(() -> hooks.waitingAtGate);

		run.stop();
		assertThat(run.outcome()).isEqualTo("stopped");
		assertThat(log.records()).extracting(ToolCallRecord::status).containsExactly(Status.COMPLETED);
		assertThat(find(record, "call", "block")).isEmpty();
		assertThat(McpTestServers.lines(record)).noneMatch(line -> line[1].equals("cancelled"));
	}

	@Test
	void aServerThatNeverAnswersTheCancelDoesNotHoldTheRun() throws Exception {
		ToolProperties.Server server = servers.http(record, Duration.ofMinutes(1),
				ToolProperties.OnFailure.ERROR_RESULT, true);
		Run run = start(server, new ScriptedModel(List.of(List.of(call("c1", "block", "{}"))), 0, Duration.ZERO));
		String id = awaitLine(record, "call", "block", WAIT)[2];
		hooks.awaitStarted();

		long stoppedAt = run.stop();
		assertThat(run.outcome()).isEqualTo("stopped");
		long endedAt = run.endedAt();
		System.out.printf("[tools] server ignoring cancels: stop->run ended %.1f ms%n", (endedAt - stoppedAt) / 1000.0);
		assertThat(Duration.of(endedAt - stoppedAt, ChronoUnit.MICROS))
			.as("the run did not wait for the unanswered cancel's notification")
			.isLessThan(UNDER_NOTIFY_BOUND);
		awaitLine(record, "cancelled", id, CANCEL_BOUND);
		// its DELETE is never answered either: the session's client is shut down
		long closedAt = Long.parseLong(awaitLine(record, "closed", id, Duration.ofSeconds(5))[0]);
		System.out.printf("[tools] server ignoring cancels: stop->response stream closed %.1f ms%n",
				(closedAt - stoppedAt) / 1000.0);
		assertThat(log.records()).extracting(ToolCallRecord::status).containsExactly(Status.CANCELLED_BEFORE_RESULT);
	}

	@ParameterizedTest
	@EnumSource(ToolProperties.Transport.class)
	void aCallPastItsDeadlineIsCancelledAndTheModelGetsAnError(ToolProperties.Transport transport) throws Exception {
		ScriptedModel model = new ScriptedModel(List.of(List.of(call("c1", "block", "{}"))), 2, Duration.ZERO);
		Run run = start(server(transport, Duration.ofMillis(300), ToolProperties.OnFailure.ERROR_RESULT), model);

		assertThat(run.outcome()).isEqualTo("completed");
		String id = awaitLine(record, "call", "block", WAIT)[2];
		awaitLine(record, "cancelled", id, CANCEL_BOUND);
		assertThat(model.results).singleElement().asString().startsWith("Error: the tool did not answer within");
		assertThat(log.records()).extracting(ToolCallRecord::status).containsExactly(Status.TIMED_OUT);
	}

	@Test
	void aFailedCallEndsTheRunWhenConfigured() throws Exception {
		ScriptedModel model = new ScriptedModel(List.of(List.of(call("c1", "fail", "{}"))), 2, Duration.ZERO);
		Run run = start(
				server(ToolProperties.Transport.STDIO, Duration.ofSeconds(30), ToolProperties.OnFailure.END_RUN),
				model);

		assertThat(run.outcome()).isEqualTo("failed: A tool call failed.");
		assertThat(log.records()).extracting(ToolCallRecord::status).containsExactly(Status.FAILED);
	}

	@Test
	void onlyAllowedToolsAreOfferedAndCalled() throws Exception {
		ScriptedModel model = new ScriptedModel(
				List.of(List.of(call("c1", "fail", "{}"), call("c2", "echo", "{\"text\":\"ok\"}"))), 1, Duration.ZERO);
		ToolProperties properties = new ToolProperties(
				Map.of("t",
						server(ToolProperties.Transport.STDIO, Duration.ofSeconds(30),
								ToolProperties.OnFailure.ERROR_RESULT)),
				Map.of("agent", new ToolProperties.Agent(List.of("t.echo"))), 8);
		Run run = start(properties, model);

		assertThat(run.outcome()).isEqualTo("completed");
		assertThat(model.offered).containsExactly("t__echo");
		assertThat(log.records()).extracting(ToolCallRecord::status).containsExactly(Status.REFUSED, Status.COMPLETED);
		assertThat(find(record, "call", "fail")).isEmpty();
		assertThat(model.results).containsExactly("Error: no tool named t__fail is available.", "ok");
	}

	private ToolProperties.Server server(ToolProperties.Transport transport, Duration callTimeout,
			ToolProperties.OnFailure onFailure) throws Exception {
		return transport == ToolProperties.Transport.STDIO ? McpTestServers.stdio(record, callTimeout, onFailure)
				: servers.http(record, callTimeout, onFailure, false);
	}

	private Run start(ToolProperties.Transport transport, ScriptedModel model) throws Exception {
		return start(server(transport, Duration.ofMinutes(1), ToolProperties.OnFailure.ERROR_RESULT), model);
	}

	private Run start(ToolProperties.Server server, ScriptedModel model) {
		return start(
				new ToolProperties(Map.of("t", server), Map.of("agent", new ToolProperties.Agent(List.of("t.*"))), 8),
				model);
	}

	private Run start(ToolProperties properties, ScriptedModel model) {
		tools = new McpTools(properties);
		ToolLoop loop = new ToolLoop(tools, model, properties);
		StartRun job = new StartRun("r1", "u1", "c1", "agent", List.of(new StartRun.ChatMessage("user", "go")), 1000,
				"g1", Instant.now(), null);
		return new Run(loop, job, hooks, log);
	}

	private static long micros() {
		return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
	}

	/** A run of the loop on its own virtual thread, as the worker runs it. */
	private static final class Run {

		private final CompletableFuture<String> outcome = new CompletableFuture<>();

		private volatile long endedAt;

		private final Thread thread;

		Run(ToolLoop loop, StartRun job, Hooks hooks, ToolCallLog log) {
			thread = Thread.ofVirtual().start(() -> {
				try {
					loop.run(job, hooks.tokens::add, hooks, log);
					end("completed");
				}
				catch (InterruptedException ex) {
					end("stopped");
				}
				catch (RuntimeException ex) {
					end("failed: " + ex.getMessage());
				}
			});
		}

		private void end(String how) {
			endedAt = micros();
			outcome.complete(how);
		}

		/** Stops the run as a stop does, and returns when (epoch µs). */
		long stop() {
			long at = micros();
			thread.interrupt();
			return at;
		}

		String outcome() throws Exception {
			return outcome.get(30, TimeUnit.SECONDS);
		}

		long endedAt() {
			return endedAt;
		}

	}

	/** The run's side: a pause gate like the task's, and what the loop reported. */
	private static final class Hooks implements ToolRunHooks {

		final BlockingQueue<String> tokens = new LinkedBlockingQueue<>();

		final BlockingQueue<Integer> started = new LinkedBlockingQueue<>();

		private final ReentrantLock lock = new ReentrantLock();

		private final Condition resumed = lock.newCondition();

		private boolean paused;

		volatile boolean waitingAtGate;

		void pause() {
			lock.lock();
			try {
				paused = true;
			}
			finally {
				lock.unlock();
			}
		}

		void resume() {
			lock.lock();
			try {
				paused = false;
				resumed.signalAll();
			}
			finally {
				lock.unlock();
			}
		}

		void awaitStarted() throws InterruptedException {
			assertThat(started.poll(30, TimeUnit.SECONDS)).isNotNull();
		}

		@Override
		public void beforeModelTurn() throws InterruptedException {
			lock.lock();
			try {
				while (paused) {
					waitingAtGate = true;
					resumed.await();
				}
				waitingAtGate = false;
			}
			finally {
				lock.unlock();
			}
		}

		@Override
		public void callStarted(int index, ToolRequest request) {
			started.add(index);
		}

		@Override
		public void callFinished(int index, ToolCallRecord record) {
		}

	}

}
