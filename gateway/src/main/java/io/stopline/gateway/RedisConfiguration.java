package io.stopline.gateway;

import io.micrometer.core.instrument.MeterRegistry;
import io.stopline.core.liveness.DeadWorkerReaper;
import io.stopline.core.liveness.PeriodicReaper;
import io.stopline.core.StoplineRedisConfiguration;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.scheduling.TaskScheduler;

@Configuration(proxyBeanMethods = false)
@Import(StoplineRedisConfiguration.class)
class RedisConfiguration {

	/** Gateways reap too, so runs are cleaned up even when no worker is left alive. */
	@Bean
	PeriodicReaper periodicReaper(DeadWorkerReaper reaper, TaskScheduler scheduler, MeterRegistry meters,
			GatewayProperties properties) {
		return new PeriodicReaper(reaper, scheduler, properties.reaperInterval(), meters);
	}

}
