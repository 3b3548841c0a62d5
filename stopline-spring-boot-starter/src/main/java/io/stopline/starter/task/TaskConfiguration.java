package io.stopline.starter.task;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.stopline.core.events.RunEvents;
import io.stopline.core.liveness.DeadWorkerReaper;
import io.stopline.core.liveness.WorkerLiveness;
import io.stopline.core.ops.StopAudit;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.run.RunReplays;
import io.stopline.core.stop.StopRequests;
import io.stopline.starter.WorkerProperties;
import io.stopline.starter.liveness.LivenessScheduler;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The runs of this node: the local registry, the runner and their life cycle. */
@Configuration(proxyBeanMethods = false)
public class TaskConfiguration {

	@Bean
	LocalTaskRegistry localTaskRegistry() {
		return new LocalTaskRegistry();
	}

	/** Runs execute on virtual threads: a blocked model call costs no platform thread. */
	@Bean(destroyMethod = "shutdownNow")
	ExecutorService runExecutor() {
		return Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("run-", 0).factory());
	}

	/** The application's meter registry; a private one when it has none. */
	@Bean
	RunMetrics runMetrics(ObjectProvider<MeterRegistry> meters, LocalTaskRegistry tasks) {
		return new RunMetrics(meters.getIfAvailable(SimpleMeterRegistry::new), tasks);
	}

	@Bean
	RunRevalidator runRevalidator(LocalTaskRegistry tasks, ConversationRegistry registry) {
		return new RunRevalidator(tasks, registry);
	}

	@Bean
	TaskRunner taskRunner(ConversationRegistry registry, StopRequests stopRequests, LocalTaskRegistry tasks,
			RunEvents events, ExecutorService runExecutor, RunMetrics metrics, StopAudit audit,
			WorkerProperties properties, TokenFrameProperties frames, RunReplays replays, RecentOutcomes outcomes) {
		return new TaskRunner(registry, stopRequests, tasks, events, runExecutor, metrics, audit, properties, frames,
				replays, outcomes);
	}

	/** The outcomes this node wrote lately, to write one again that a failover lost. */
	@Bean
	RecentOutcomes recentOutcomes(RecentOutcomesProperties properties) {
		return new RecentOutcomes(properties);
	}

	@Bean
	GracefulShutdown gracefulShutdown(LocalTaskRegistry tasks, WorkerProperties properties) {
		return new GracefulShutdown(tasks, properties);
	}

	@Bean
	OwnershipCheck ownershipCheck(LocalTaskRegistry tasks, ConversationRegistry registry, DeadWorkerReaper reaper,
			LivenessScheduler scheduler, WorkerLiveness liveness, WorkerProperties properties,
			RecentOutcomes outcomes) {
		return new OwnershipCheck(tasks, registry, reaper, scheduler, liveness, properties, outcomes);
	}

}
