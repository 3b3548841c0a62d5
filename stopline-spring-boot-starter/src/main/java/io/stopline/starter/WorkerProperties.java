package io.stopline.starter;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.UUID;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Settings of a node that hosts runs ({@code stopline.worker.*}): in Stopline's registry
 * every process that runs chats is a worker, whether it is Stopline's own worker or an
 * application that uses the starter.
 *
 * @param id unique per process; defaults to the host name plus a random suffix
 * @param heartbeatTtl how long the worker's heartbeat key lives; renewed every third of
 * it
 * @param reconcileInterval how often recorded stop requests are checked (the bound on a
 * stop whose publish was lost)
 * @param shutdownGrace on shutdown, how long running runs may finish before they are
 * stopped with reason shutdown
 * @param reaperInterval how often this worker looks for dead workers and interrupts their
 * runs
 * @param maxRunDuration a run going longer is stopped with reason {@code timeout}; a
 * request may lower it with {@code max_duration_seconds}
 * @param maxPauseDuration a run paused longer is stopped with reason {@code timeout}
 * @param ownershipCheckInterval how often the worker compares what Redis says it holds
 * with the runs it executes; a disagreement seen on two checks in a row is healed
 */
@ConfigurationProperties("stopline.worker")
public record WorkerProperties(@Nullable String id, @DefaultValue("10s") Duration heartbeatTtl,
		@DefaultValue("500ms") Duration reconcileInterval, @DefaultValue("10s") Duration shutdownGrace,
		@DefaultValue("2s") Duration reaperInterval, @DefaultValue("10m") Duration maxRunDuration,
		@DefaultValue("5m") Duration maxPauseDuration, @DefaultValue("5s") Duration ownershipCheckInterval) {

	public WorkerProperties {
		if (id == null || id.isBlank()) {
			id = hostName() + "-" + UUID.randomUUID().toString().substring(0, 8);
		}
	}

	private static String hostName() {
		try {
			return InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9._-]", "-");
		}
		catch (UnknownHostException ex) {
			return "worker";
		}
	}
}
