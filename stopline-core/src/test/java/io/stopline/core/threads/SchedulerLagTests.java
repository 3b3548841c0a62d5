package io.stopline.core.threads;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A late wake-up marks the scheduler busy at once; on-time ones bring it back to idle
 * within a few samples; the JVM's own probe runs.
 */
class SchedulerLagTests {

	@Test
	void oneLateWakeUpMakesItBusyAndOnTimeOnesMakeItIdleAgain() {
		SchedulerLag lag = SchedulerLag.unprobed();
		assertThat(lag.busy()).isFalse();

		lag.sample(Duration.ofMillis(5).toNanos());
		assertThat(lag.busy()).isTrue();

		int samples = 0;
		while (lag.busy()) {
			lag.sample(Duration.ofMillis(0).toNanos());
			samples++;
		}
		// 5 ms decays below 1 ms in three samples (under a second of probing)
		assertThat(samples).isBetween(2, 5);
		lag.sample(-1000);
		assertThat(lag.late()).isLessThan(SchedulerLag.BUSY);
	}

	@Test
	void theSharedProbeMeasures() {
		SchedulerLag shared = SchedulerLag.shared();
		assertThat(shared).isSameAs(SchedulerLag.shared());
		await().atMost(Duration.ofSeconds(10)).until(() -> shared.late().toNanos() > 0);
	}

}
