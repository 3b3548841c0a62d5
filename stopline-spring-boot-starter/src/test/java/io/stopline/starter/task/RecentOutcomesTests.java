package io.stopline.starter.task;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import io.stopline.core.run.RunOutcome;
import io.stopline.core.run.RunRecord;
import io.stopline.protocol.RunState;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The outcomes a worker keeps to write again after a failover lost them: found while
 * kept, dropped after the retention or beyond the count, oldest first.
 */
class RecentOutcomesTests {

	private final MutableClock clock = new MutableClock();

	@Test
	void anOutcomeIsFoundUntilItsRetentionEnds() {
		RecentOutcomes outcomes = new RecentOutcomes(new RecentOutcomesProperties(Duration.ofMinutes(2), 10), clock);
		RunOutcome kept = RunOutcome.complete("the answer", clock.instant());
		outcomes.remember(run("r1"), kept, null);

		clock.advance(Duration.ofSeconds(119));
		assertThat(outcomes.find("r1")).contains(kept);
		assertThat(outcomes.find("r2")).isEmpty();

		clock.advance(Duration.ofSeconds(2));
		assertThat(outcomes.find("r1")).isEmpty();
		assertThat(outcomes.size()).isZero();
	}

	@Test
	void theOldestGoFirstBeyondTheCount() {
		RecentOutcomes outcomes = new RecentOutcomes(new RecentOutcomesProperties(Duration.ofMinutes(2), 2), clock);
		outcomes.remember(run("r1"), RunOutcome.complete("one", clock.instant()), null);
		outcomes.remember(run("r2"), RunOutcome.complete("two", clock.instant()), null);
		outcomes.remember(run("r3"), RunOutcome.complete("three", clock.instant()), null);

		assertThat(outcomes.find("r1")).isEmpty();
		assertThat(outcomes.find("r2")).map(RunOutcome::content).contains("two");
		assertThat(outcomes.find("r3")).map(RunOutcome::content).contains("three");
		assertThat(outcomes.size()).isEqualTo(2);
	}

	@Test
	void aSecondOutcomeOfOneRunReplacesTheFirst() {
		RecentOutcomes outcomes = new RecentOutcomes(new RecentOutcomesProperties(Duration.ofMinutes(2), 10), clock);
		outcomes.remember(run("r1"), RunOutcome.complete("first", clock.instant()), null);
		outcomes.remember(run("r1"), RunOutcome.complete("second", clock.instant()), null);

		assertThat(outcomes.find("r1")).map(RunOutcome::content).contains("second");
		assertThat(outcomes.size()).isEqualTo(1);
	}

	@Test
	void anOutcomeIsDueForItsCheckOnceOldEnoughAndUntilChecked() {
		RecentOutcomes outcomes = new RecentOutcomes(new RecentOutcomesProperties(Duration.ofMinutes(2), 10), clock);
		outcomes.remember(run("r1"), RunOutcome.complete("one", clock.instant()), null);
		clock.advance(Duration.ofSeconds(3));
		outcomes.remember(run("r2"), RunOutcome.complete("two", clock.instant()), null);

		clock.advance(Duration.ofSeconds(3));
		List<RecentOutcomes.Written> due = outcomes.due(Duration.ofSeconds(5));
		assertThat(due).extracting(written -> written.record().runId()).containsExactly("r1");
		assertThat(outcomes.due(Duration.ofSeconds(5))).as("until checked").hasSize(1);
		outcomes.checked(due);
		assertThat(outcomes.due(Duration.ofSeconds(5))).isEmpty();

		clock.advance(Duration.ofSeconds(3));
		assertThat(outcomes.due(Duration.ofSeconds(5))).extracting(written -> written.record().runId())
			.containsExactly("r2");
		assertThat(outcomes.find("r1")).as("a checked outcome is still kept").isPresent();
	}

	@Test
	void noneAreKeptWhenTheCountIsZero() {
		RecentOutcomes outcomes = new RecentOutcomes(new RecentOutcomesProperties(Duration.ofMinutes(2), 0), clock);
		outcomes.remember(run("r1"), RunOutcome.complete("one", clock.instant()), null);

		assertThat(outcomes.find("r1")).isEmpty();
	}

	private RunRecord run(String runId) {
		return new RunRecord(runId, "alice", "c-" + runId, "assistant", RunState.RUNNING, "w-1", "g-1", clock.instant(),
				clock.instant());
	}

	private static final class MutableClock extends Clock {

		private Instant now = Instant.parse("2026-12-04T12:00:00Z");

		void advance(Duration by) {
			now = now.plus(by);
		}

		@Override
		public Instant instant() {
			return now;
		}

		@Override
		public java.time.ZoneId getZone() {
			return ZoneOffset.UTC;
		}

		@Override
		public Clock withZone(java.time.ZoneId zone) {
			return this;
		}

	}

}
