package io.stopline.core.threads;

import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The scheduler's lateness as a node's timer, recorded until the node closes. */
class SchedulerLagMetricsTests {

	@Test
	void eachProbeIsRecordedUntilClosed() throws Exception {
		SchedulerLag lag = SchedulerLag.unprobed();
		SimpleMeterRegistry meters = new SimpleMeterRegistry();
		SchedulerLagMetrics metrics = new SchedulerLagMetrics(lag);
		metrics.bindTo(meters);

		lag.sample(TimeUnit.MILLISECONDS.toNanos(3));
		lag.sample(-5);
		Timer timer = meters.get("stopline.scheduler.lag").timer();
		assertThat(timer.count()).isEqualTo(2);
		assertThat(timer.max(TimeUnit.MILLISECONDS)).isEqualTo(3);
		assertThat(timer.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(3);

		metrics.close();
		lag.sample(TimeUnit.MILLISECONDS.toNanos(7));
		assertThat(timer.count()).isEqualTo(2);
	}

}
