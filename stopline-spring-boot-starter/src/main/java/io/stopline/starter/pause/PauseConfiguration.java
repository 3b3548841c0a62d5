package io.stopline.starter.pause;

import io.stopline.core.events.RunEvents;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.starter.WorkerProperties;
import io.stopline.starter.task.LocalTaskRegistry;
import org.redisson.api.RedissonClient;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Hearing this node's pause and resume commands and carrying them out. */
@Configuration(proxyBeanMethods = false)
public class PauseConfiguration {

	@Bean
	RunControls runControls(LocalTaskRegistry tasks, ConversationRegistry registry, RunEvents events,
			WorkerProperties properties) {
		return new RunControls(tasks, registry, events, properties);
	}

	@Bean
	ControlListener controlListener(RedissonClient redisson, RunControls controls, WorkerProperties properties) {
		return new ControlListener(redisson, controls, properties);
	}

}
