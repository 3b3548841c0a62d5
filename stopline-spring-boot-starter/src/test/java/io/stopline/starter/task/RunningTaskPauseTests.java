package io.stopline.starter.task;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.stopline.protocol.StartRun;
import io.stopline.protocol.StopReason;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Pause inside a run: a paused run emits nothing and continues on resume; a stop ends it
 * at once whether its thread is waiting or about to wait.
 */
class RunningTaskPauseTests {

	private static final Duration BOUND = Duration.ofSeconds(5);

	@Test
	void aPausedRunEmitsNothingUntilResumed() throws Exception {
		RunningTask task = new RunningTask(job(), run -> {
		});
		AtomicInteger emitted = new AtomicInteger();
		assertThat(task.pauseGate().pause()).isEqualTo(ControlAttempt.CHANGED);
		Thread generating = Thread.ofVirtual().start(() -> {
			task.beginGeneration();
			try {
				task.emit(emitted::incrementAndGet);
			}
			catch (InterruptedException ex) {
				// not expected here
			}
		});
		await().atMost(BOUND).until(() -> generating.getState() == Thread.State.WAITING);
		assertThat(emitted).hasValue(0);

		assertThat(task.pauseGate().resumable()).isEqualTo(ControlAttempt.CHANGED);
		assertThat(task.pauseGate().resume()).isEqualTo(ControlAttempt.CHANGED);
		assertThat(generating.join(BOUND)).isTrue();
		assertThat(emitted).hasValue(1);
		assertThat(task.pauseGate().resume()).as("a second resume changes nothing").isEqualTo(ControlAttempt.UNCHANGED);
	}

	@Test
	void aStopEndsAPausedRunThatIsWaiting() throws Exception {
		RunningTask task = new RunningTask(job(), run -> {
		});
		task.pauseGate().pause();
		CompletableFuture<Throwable> ended = new CompletableFuture<>();
		Thread generating = Thread.ofVirtual().start(() -> {
			task.beginGeneration();
			try {
				task.emit(() -> {
				});
				ended.complete(null);
			}
			catch (InterruptedException ex) {
				ended.complete(ex);
			}
		});
		await().atMost(BOUND).until(() -> generating.getState() == Thread.State.WAITING);

		task.requestStop(StopReason.USER);

		assertThat(ended.get(BOUND.toMillis(), TimeUnit.MILLISECONDS)).isInstanceOf(InterruptedException.class);
		assertThat(task.endGeneration()).as("the stop won").isNotNull();
	}

	@Test
	void aStopThatLandsBeforeThePausedThreadWaitsEndsItToo() {
		// the generating thread is this one; pause and stop both land before it reaches
		// the wait (the race the review found: it used to spin for ever)
		RunningTask task = new RunningTask(job(), run -> {
		});
		task.beginGeneration();
		task.pauseGate().pause();
		task.requestStop(StopReason.USER);

		assertThatThrownBy(() -> task.emit(() -> {
		})).isInstanceOf(InterruptedException.class);
		assertThat(task.pauseGate().pause()).as("nothing to pause once stopping").isEqualTo(ControlAttempt.ENDING);
		Thread.interrupted();
	}

	private static StartRun job() {
		return new StartRun("run-1", "alice", "c-1", "assistant", List.of(new StartRun.ChatMessage("user", "hi")), 10,
				"gw-1", Instant.now(), null);
	}

}
