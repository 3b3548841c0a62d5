package io.stopline.gateway;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Settings of a gateway ({@code stopline.gateway.*}).
 *
 * @param id unique per process (names this gateway's inbox channel); random by default
 * @param stopConfirmTimeout how long a stop waits for the owner's confirmation before
 * answering 202
 * @param defaultMaxTokens {@code max_tokens} of a chat request that sets none
 * @param lostRunGrace how long a streaming request waits for a run that vanished from
 * Redis to be re-registered (Redis restarted without persistence) before it ends with an
 * error
 * @param reaperInterval how often this gateway looks for dead workers and interrupts
 * their runs
 * @param streamBuffer events a WebSocket may have waiting to be sent; a client that falls
 * this far behind is disconnected (close code 1013) and gets the state again when it
 * reconnects
 * @param allowedOrigins browser origins besides the gateway's own that may call the API
 * (CORS) and open WebSockets, e.g. {@code https://chat.example.com}
 * @param maxRequestBytes larger request bodies are refused with 413
 * @param maxStreamsPerUser WebSockets one user may hold open on one gateway; more are
 * closed with 1008
 * @param reserveAgainAfter how long a chat request whose run vanished from Redis before
 * this gateway heard anything of it (a Sentinel failover dropped the reservation and its
 * job, written to the old master) waits before the gateway reserves and queues it again,
 * once; longer than two {@code ownership-check-interval}s (5 s by default), so a worker
 * that took the run has put its record back by then and the run is never run twice
 */
@ConfigurationProperties("stopline.gateway")
public record GatewayProperties(@Nullable String id, @DefaultValue("2s") Duration stopConfirmTimeout,
		@DefaultValue("256") int defaultMaxTokens, @DefaultValue("30s") Duration lostRunGrace,
		@DefaultValue("2s") Duration reaperInterval, @DefaultValue("20") int maxActiveRunsPerUser,
		@DefaultValue StopRateLimit stopRateLimit, @DefaultValue("1024") int streamBuffer,
		@DefaultValue List<String> allowedOrigins, @DefaultValue("1048576") long maxRequestBytes,
		@DefaultValue("32") int maxStreamsPerUser, @DefaultValue("11s") Duration reserveAgainAfter) {

	/**
	 * At most {@code permits} stop requests per {@code interval} per user, across all
	 * gateways (Redis): generous enough that a person can always stop (the default
	 * averages 10 a second, with bursts of 20).
	 */
	public record StopRateLimit(@DefaultValue("20") long permits, @DefaultValue("2s") Duration interval) {
	}

	public GatewayProperties {
		allowedOrigins = allowedOrigins == null ? List.of() : List.copyOf(allowedOrigins);
		if (id == null || id.isBlank()) {
			id = "gw-" + UUID.randomUUID().toString().substring(0, 8);
		}
	}
}
