package io.stopline.worker;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import io.micrometer.core.instrument.MeterRegistry;
import io.stopline.core.liveness.DeadWorkerReaper;
import io.stopline.core.liveness.PeriodicReaper;
import io.stopline.core.StoplineRedisConfiguration;
import io.stopline.worker.liveness.LivenessScheduler;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

@Configuration(proxyBeanMethods = false)
@Import(StoplineRedisConfiguration.class)
class RedisConfiguration {

	@Bean
	PeriodicReaper periodicReaper(DeadWorkerReaper reaper, LivenessScheduler scheduler, MeterRegistry meters,
			WorkerProperties properties) {
		return new PeriodicReaper(reaper, scheduler.taskScheduler(), properties.reaperInterval(), meters);
	}

	/** Runs execute on virtual threads: a blocked model call costs no platform thread. */
	@Bean(destroyMethod = "shutdownNow")
	ExecutorService runExecutor() {
		return Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("run-", 0).factory());
	}

}
