package io.stopline.gateway.system;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How a gateway shares its connections ({@code stopline.gateway.connections.*}).
 *
 * @param streamReserve connections of Tomcat's {@code server.tomcat.max-connections} that
 * chats and WebSockets may not take: a request that would open a stream beyond
 * {@code max-connections - stream-reserve} gets a 503, so stops always find a connection
 * @param controlPort a second port that serves only the stop endpoints, the active
 * listing and the probes, on its own platform threads ({@link ControlConnector}); unset:
 * none. {@code 0} picks a free port.
 * @param controlThreads the control port's request threads (Tomcat's own default): a stop
 * holds one until its owner answers, so with 16 a burst of 500 stops queued for them (p99
 * 1.7 s against 0.8 s with 200, BENCHMARKS.md)
 */
@ConfigurationProperties("stopline.gateway.connections")
record ConnectionProperties(@DefaultValue("1000") int streamReserve, @Nullable Integer controlPort,
		@DefaultValue("200") int controlThreads) {

	ConnectionProperties {
		if (streamReserve < 1) {
			throw new IllegalArgumentException("stopline.gateway.connections.stream-reserve must be at least 1");
		}
		if (controlPort != null && (controlPort < 0 || controlPort > 65535)) {
			throw new IllegalArgumentException("stopline.gateway.connections.control-port must be a port (0-65535)");
		}
		if (controlThreads < 1) {
			throw new IllegalArgumentException("stopline.gateway.connections.control-threads must be at least 1");
		}
	}

}
