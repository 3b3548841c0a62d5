package io.stopline.starter.task;

import java.time.Instant;
import java.util.List;

import io.stopline.protocol.StartRun;
import io.stopline.protocol.StopReason;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The worker's local registry: register, unregister, find, stop one, stop all of a user,
 * list.
 */
class LocalTaskRegistryTests {

	private final LocalTaskRegistry tasks = new LocalTaskRegistry();

	@Test
	void aConversationHoldsOneTaskAndRemovalIsByIdentity() {
		RunningTask first = task("alice", "c1", "r1");
		RunningTask successor = task("alice", "c1", "r2");

		assertThat(tasks.register(first)).isTrue();
		assertThat(tasks.register(successor)).isFalse();
		tasks.unregister(successor);

		assertThat(tasks.find("alice", "c1")).containsSame(first);
		tasks.unregister(first);
		assertThat(tasks.find("alice", "c1")).isEmpty();
		assertThat(tasks.size()).isZero();
	}

	@Test
	void aTaskRecordingItsOutcomeGivesWayToTheConversationsNextRun() {
		RunningTask stopped = task("alice", "c1", "r1");
		RunningTask next = task("alice", "c1", "r2");
		tasks.register(stopped);
		stopped.finishing();

		assertThat(tasks.register(next)).isTrue();
		tasks.unregister(stopped);

		assertThat(tasks.find("alice", "c1")).containsSame(next);
	}

	@Test
	void stopOneIsFencedOnTheRunId() {
		RunningTask run = task("alice", "c1", "r2");
		tasks.register(run);

		assertThat(tasks.stop("alice", "c1", "r1", StopReason.USER)).as("an older run's stop").isEmpty();
		assertThat(tasks.stop("bob", "c1", "r2", StopReason.USER)).as("another user's conversation").isEmpty();
		assertThat(run.beginGeneration()).as("still running").isTrue();

		assertThat(tasks.stop("alice", "c1", "r2", StopReason.USER)).contains(StopAttempt.ACCEPTED);
		assertThat(run.endGeneration()).as("the stop won").isNotNull();
	}

	@Test
	void stopAllOfAUserLeavesOtherUsersAlone() {
		RunningTask a1 = task("alice", "c1", "r1");
		RunningTask a2 = task("alice", "c2", "r2");
		RunningTask b1 = task("bob", "c1", "r3");
		List.of(a1, a2, b1).forEach(tasks::register);

		assertThat(tasks.stopAllOf("alice", StopReason.STOP_ALL)).isEqualTo(2);

		assertThat(tasks.list()).containsExactlyInAnyOrder(a1, a2, b1);
		assertThat(a1.endGeneration()).isNotNull();
		assertThat(a2.endGeneration()).isNotNull();
		assertThat(b1.endGeneration()).as("bob's run completes").isNull();
	}

	private static RunningTask task(String user, String conversation, String runId) {
		return new RunningTask(
				new StartRun(runId, user, conversation, "assistant", List.of(), 10, "g-1", Instant.now(), null),
				run -> {
				});
	}

}
