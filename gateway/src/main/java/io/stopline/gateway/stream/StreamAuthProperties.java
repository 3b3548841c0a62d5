package io.stopline.gateway.stream;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code stopline.stream.*}: how a WebSocket authenticates.
 *
 * @param ticketTtl how long a ticket from {@code POST /v1/stream-tickets} may wait to be
 * used (once)
 * @param allowQueryToken whether {@code ?token=<jwt>} is accepted on the socket; off by
 * default (on in the {@code dev} profile): a URL ends up in proxy access logs and browser
 * history, and a JWT there stays valid for hours
 */
@ConfigurationProperties("stopline.stream")
record StreamAuthProperties(@DefaultValue("30s") Duration ticketTtl, @DefaultValue("false") boolean allowQueryToken) {

	StreamAuthProperties {
		if (ticketTtl.isNegative() || ticketTtl.isZero() || ticketTtl.compareTo(Duration.ofMinutes(5)) > 0) {
			throw new IllegalArgumentException("stopline.stream.ticket-ttl must be between 1 ms and 5 minutes");
		}
	}

}
