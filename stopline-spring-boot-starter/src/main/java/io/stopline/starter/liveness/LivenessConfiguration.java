package io.stopline.starter.liveness;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.stopline.core.liveness.DeadWorkerReaper;
import io.stopline.core.liveness.PeriodicReaper;
import io.stopline.core.liveness.WorkerLiveness;
import io.stopline.starter.WorkerProperties;
import io.stopline.starter.task.LocalTaskRegistry;
import io.stopline.starter.task.RunRevalidator;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * This node's heartbeat, its readiness and the reaper of dead nodes' runs (every node
 * reaps: a deployment of starter applications alone has no other).
 */
@Configuration(proxyBeanMethods = false)
public class LivenessConfiguration {

	@Bean
	LivenessScheduler livenessScheduler() {
		return new LivenessScheduler();
	}

	@Bean
	WorkerReadiness workerReadiness(WorkerProperties properties) {
		return new WorkerReadiness(properties);
	}

	@Bean
	Heartbeat heartbeat(WorkerLiveness liveness, LivenessScheduler scheduler, RunRevalidator revalidator,
			WorkerReadiness readiness, LocalTaskRegistry tasks, WorkerProperties properties) {
		return new Heartbeat(liveness, scheduler, revalidator, readiness, tasks, properties);
	}

	@Bean
	PeriodicReaper periodicReaper(DeadWorkerReaper reaper, LivenessScheduler scheduler,
			ObjectProvider<MeterRegistry> meters, WorkerProperties properties) {
		return new PeriodicReaper(reaper, scheduler.taskScheduler(), properties.reaperInterval(),
				meters.getIfAvailable(SimpleMeterRegistry::new));
	}

	/** {@code heartbeat} and {@code stopSubscription}, for the readiness group. */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(HealthIndicator.class)
	static class Health {

		@Bean
		HeartbeatHealthIndicator heartbeatHealthIndicator(WorkerReadiness readiness) {
			return new HeartbeatHealthIndicator(readiness);
		}

		@Bean
		StopSubscriptionHealthIndicator stopSubscriptionHealthIndicator(WorkerReadiness readiness) {
			return new StopSubscriptionHealthIndicator(readiness);
		}

	}

}
