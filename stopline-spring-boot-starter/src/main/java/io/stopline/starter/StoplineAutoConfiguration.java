package io.stopline.starter;

import io.stopline.core.StoplineRedisConfiguration;
import io.stopline.core.events.RunEvents;
import io.stopline.core.liveness.DeadWorkerReaper;
import io.stopline.core.liveness.WorkerLiveness;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.stop.StopRequests;
import io.stopline.starter.liveness.LivenessConfiguration;
import io.stopline.starter.pause.PauseConfiguration;
import io.stopline.starter.stop.StopConfiguration;
import io.stopline.starter.task.LocalTaskRegistry;
import io.stopline.starter.task.TaskConfiguration;
import io.stopline.starter.task.TaskRunner;
import io.stopline.starter.task.RecentOutcomesProperties;
import io.stopline.starter.task.TokenFrameProperties;
import io.stopline.starter.web.WebConfiguration;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;

/**
 * Makes this application a node that hosts stoppable runs, on the application's own Redis
 * (Redisson's Spring Boot starter builds the client from {@code spring.data.redis.*}):
 * the run engine, the stop and pause listeners, the heartbeat, the ownership check and
 * the reaper. {@code stopline.starter.enabled=false} turns it off (a gateway that shares
 * the class path).
 */
@AutoConfiguration(afterName = { "org.redisson.spring.starter.RedissonAutoConfigurationV4",
		"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration" })
@ConditionalOnProperty(name = "stopline.starter.enabled", matchIfMissing = true)
@EnableConfigurationProperties({ WorkerProperties.class, TokenFrameProperties.class, StarterProperties.class,
		RecentOutcomesProperties.class })
@Import({ StoplineRedisConfiguration.class, TaskConfiguration.class, LivenessConfiguration.class,
		StopConfiguration.class, PauseConfiguration.class, WebConfiguration.class })
public class StoplineAutoConfiguration {

	@Bean
	Stopline stopline(ConversationRegistry registry, TaskRunner runner, LocalTaskRegistry tasks, RunEvents events,
			StopRequests requests, WorkerLiveness liveness, DeadWorkerReaper reaper, WorkerProperties worker,
			StarterProperties properties) {
		return new Stopline(registry, runner, tasks, events,
				new Stops(requests, registry, liveness, reaper, worker.id(), properties), worker.id());
	}

}
