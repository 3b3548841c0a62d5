package io.stopline.gateway.inbox;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.stopline.gateway.GatewayProperties;
import io.stopline.protocol.Json;
import io.stopline.protocol.StopReason;
import io.stopline.protocol.RunEvent;
import io.stopline.core.events.GatewayInboxes;
import io.stopline.core.events.RunEvents;
import io.stopline.testing.RedisClients;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Routing of stop outcomes: a stop signalled in the script that found the run starts
 * waiting only after the signal, so an answer that arrives first must not be lost.
 */
class GatewayInboxTests {

	private static RedisClients clients;

	private GatewayInbox inbox;

	@BeforeAll
	static void connect() {
		clients = new RedisClients(TestRedis.shared());
	}

	@AfterAll
	static void disconnect() {
		clients.close();
	}

	// a real client on a real Redis; routing itself needs no subscription, so the inbox
	// is not started
	@BeforeEach
	void setUp() {
		GatewayInboxes inboxes = new GatewayInboxes(clients.redisson());
		inbox = new GatewayInbox(inboxes, new RunEvents(clients.redisson(), inboxes),
				new GatewayProperties("gw-test", Duration.ofSeconds(2), 256, Duration.ofSeconds(30),
						Duration.ofSeconds(2), 20, new GatewayProperties.StopRateLimit(20, Duration.ofSeconds(2)), 1024,
						List.of(), 1 << 20, 32, Duration.ofSeconds(11)),
				new SimpleMeterRegistry());
	}

	@Test
	void anOutcomeThatArrivesBeforeItsWaiterIsKeptForIt() {
		RunEvent.RunStopped stopped = new RunEvent.RunStopped("r-1", "c-1", StopReason.USER, "partial", 3,
				Instant.now());

		inbox.route(Json.write(stopped));
		CompletableFuture<RunEvent> outcome = inbox.stopOutcome("r-1");

		assertThat(outcome).isCompletedWithValue(stopped);
		inbox.forgetStopOutcome("r-1", outcome);
		assertThat(inbox.stopOutcome("r-1")).isNotDone();
	}

	@Test
	void aWaiterRegisteredFirstIsCompletedAndForgotten() {
		CompletableFuture<RunEvent> outcome = inbox.stopOutcome("r-2");
		RunEvent.StopIgnored ignored = new RunEvent.StopIgnored("r-2", "c-2", "completed", Instant.now());

		inbox.route(Json.write(ignored));

		assertThat(outcome).isCompletedWithValue(ignored);
		assertThat(inbox.stopOutcome("r-2")).isNotDone();
	}

}
