package io.stopline.starter.stop;

import java.util.concurrent.ExecutorService;

import io.stopline.core.events.RunEvents;
import io.stopline.core.stop.StopRequests;
import io.stopline.starter.WorkerProperties;
import io.stopline.starter.liveness.LivenessScheduler;
import io.stopline.starter.liveness.WorkerReadiness;
import io.stopline.starter.task.LocalTaskRegistry;
import io.stopline.starter.task.RunMetrics;
import org.redisson.api.RedissonClient;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Hearing this node's stop requests and carrying them out. */
@Configuration(proxyBeanMethods = false)
public class StopConfiguration {

	@Bean
	StopHandler stopHandler(LocalTaskRegistry tasks, RunEvents events, StopRequests stopRequests,
			WorkerProperties properties) {
		return new StopHandler(tasks, events, stopRequests, properties);
	}

	@Bean
	StopListener stopListener(RedissonClient redisson, StopHandler handler, StopRequests stopRequests,
			ExecutorService runExecutor, LivenessScheduler scheduler, WorkerReadiness readiness, RunMetrics metrics,
			WorkerProperties properties) {
		return new StopListener(redisson, handler, stopRequests, runExecutor, scheduler, readiness, metrics,
				properties);
	}

}
