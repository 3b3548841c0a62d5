package io.stopline.gateway;

import io.micrometer.core.instrument.MeterRegistry;
import io.stopline.core.liveness.DeadWorkerReaper;
import io.stopline.core.liveness.PeriodicReaper;
import io.stopline.core.StoplineRedisConfiguration;

import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

@Configuration(proxyBeanMethods = false)
@Import(StoplineRedisConfiguration.class)
class RedisConfiguration {

	/**
	 * Gateways reap too, so runs are cleaned up even when no worker is left alive. On a
	 * timer thread of its own (Spring's shared scheduler shuts down at
	 * {@code ContextClosedEvent}), stopped only after the web server: a gateway draining
	 * its requests at shutdown still reaps, so a stop waiting on a dead worker's run is
	 * answered.
	 */
	@Bean
	PeriodicReaper periodicReaper(DeadWorkerReaper reaper, MeterRegistry meters, GatewayProperties properties) {
		return PeriodicReaper.onOwnThread(reaper, properties.reaperInterval(), meters, REAPER_PHASE);
	}

	/** Stopped after the web server's graceful shutdown and its stop. */
	static final int REAPER_PHASE = WebServerApplicationContext.START_STOP_LIFECYCLE_PHASE - 1;

}
