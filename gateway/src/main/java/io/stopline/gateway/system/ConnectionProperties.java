package io.stopline.gateway.system;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How a gateway shares its connections ({@code stopline.gateway.connections.*}).
 *
 * @param streamReserve connections of Tomcat's {@code server.tomcat.max-connections} that
 * chats and WebSockets may not take: a request that would open a stream beyond
 * {@code max-connections - stream-reserve} gets a 503, so stops always find a connection
 */
@ConfigurationProperties("stopline.gateway.connections")
record ConnectionProperties(@DefaultValue("1000") int streamReserve) {

	ConnectionProperties {
		if (streamReserve < 1) {
			throw new IllegalArgumentException("stopline.gateway.connections.stream-reserve must be at least 1");
		}
	}

}
