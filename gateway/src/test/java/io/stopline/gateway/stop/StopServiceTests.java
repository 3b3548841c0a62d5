package io.stopline.gateway.stop;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.stopline.gateway.GatewayProperties;
import io.stopline.gateway.inbox.GatewayInbox;
import io.stopline.gateway.inbox.InboxFixtures;
import io.stopline.protocol.Json;
import io.stopline.protocol.RunEvent;
import io.stopline.protocol.StopReason;
import io.stopline.protocol.StopRun;
import io.stopline.core.run.ConversationRegistry.StopTarget;
import io.stopline.core.liveness.DeadWorkerReaper;
import io.stopline.core.events.GatewayInboxes;
import io.stopline.protocol.HistoryMessage;
import io.stopline.core.schema.Keys;
import io.stopline.core.run.RedisConversationRegistry;
import io.stopline.core.events.RunEvents;
import io.stopline.core.run.RunOutcome;
import io.stopline.core.run.RunRecord;
import io.stopline.core.ops.StopAudit;
import io.stopline.core.stop.StopRequests;
import io.stopline.core.ops.StopStats;
import io.stopline.core.liveness.WorkerLiveness;
import io.stopline.testing.RedisClients;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.api.RTopic;

import org.springframework.http.HttpStatus;
import org.springframework.web.ErrorResponseException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The gateway's stop service against a real Redis, with a plain fake worker on the
 * worker's stop channel: each way a stop ends (confirmed, requested, queued run ended
 * here, nothing to stop, already stopped, dead owner), the rate limit, and what is
 * counted and audited for each kind of command.
 */
class StopServiceTests {

	private static final Duration BOUND = Duration.ofSeconds(5);

	private static RedisClients clients;

	private RedisConversationRegistry registry;

	private StopRequests stopRequests;

	private WorkerLiveness liveness;

	private RunEvents events;

	private GatewayInbox inbox;

	private SimpleMeterRegistry meters;

	private StopAudit audit;

	private StopService service;

	private String user;

	private String worker;

	private RTopic workerChannel;

	private final AtomicInteger heard = new AtomicInteger();

	@BeforeAll
	static void connect() {
		clients = new RedisClients(TestRedis.shared());
	}

	@AfterAll
	static void disconnect() {
		clients.close();
	}

	@BeforeEach
	void setUp() {
		user = "user-" + UUID.randomUUID();
		worker = "w-" + UUID.randomUUID();
		service = service(new GatewayProperties.StopRateLimit(1000, Duration.ofSeconds(1)));
	}

	@AfterEach
	void tearDown() {
		inbox.stop();
		if (workerChannel != null) {
			workerChannel.removeAllListeners();
		}
	}

	@Test
	void aRunningRunIsStoppedByItsOwnerAndConfirmed() {
		RunRecord running = running("c1");
		fakeWorker(true);

		assertThat(service.stop(StopCommand.byUser(user, "c1")).result()).isEqualTo(StopResult.CONFIRMED);

		assertThat(heard).hasValue(1);
		assertThat(registry.stopTarget(user, "c1")).isEqualTo(new StopTarget.RecentlyStopped(running.runId()));
		assertThat(counted("single", "confirmed")).isEqualTo(1);
		assertThat(audited()).singleElement().satisfies(entry -> {
			assertThat(entry.by()).isEqualTo(user);
			assertThat(entry.run()).isEqualTo(running.runId());
			assertThat(entry.reason()).isEqualTo("user");
			assertThat(entry.outcome()).isEqualTo("confirmed");
		});
	}

	@Test
	void anOwnerThatDoesNotAnswerInTimeLeavesTheStopRequested() {
		inbox.stop();
		service = service(new GatewayProperties.StopRateLimit(1000, Duration.ofSeconds(1)), Duration.ofMillis(500));
		running("c1");
		fakeWorker(false);

		assertThat(service.stop(StopCommand.byUser(user, "c1")).result()).isEqualTo(StopResult.REQUESTED);

		assertThat(stopRequests.pending(worker)).as("recorded for the owner to carry out").hasSize(1);
	}

	@Test
	void aQueuedRunIsEndedHereWithoutAnyWorker() {
		RunRecord queued = reserve("c1");
		fakeWorker(true);

		assertThat(service.stop(StopCommand.byUser(user, "c1")).result()).isEqualTo(StopResult.CONFIRMED);

		assertThat(heard).hasValue(0);
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::status, HistoryMessage::stopReason)
			.containsExactly(org.assertj.core.groups.Tuple.tuple("complete", null),
					org.assertj.core.groups.Tuple.tuple("stopped", "user"),
					org.assertj.core.groups.Tuple.tuple("complete", "user"));
		assertThat(registry.stopTarget(user, "c1")).isEqualTo(new StopTarget.RecentlyStopped(queued.runId()));
	}

	@Test
	void nothingToStopIsNotFoundAndOnlyASingleStopAuditsIt() {
		assertThat(service.stop(StopCommand.byUser(user, "c1")).result()).isEqualTo(StopResult.NOT_FOUND);
		assertThat(service.stop(StopCommand.inBulk(user, "c2")).result()).isEqualTo(StopResult.NOT_FOUND);

		assertThat(audited()).singleElement().satisfies(entry -> assertThat(entry.conversation()).isEqualTo("c1"));
		assertThat(counted("single", "not_found")).isEqualTo(1);
		assertThat(counted("all", "not_found")).isEqualTo(1);
	}

	@Test
	void anotherUsersRunCannotBeFound() {
		running("c1");
		fakeWorker(true);

		assertThat(service.stop(StopCommand.byUser("mallory-" + UUID.randomUUID(), "c1")).result())
			.isEqualTo(StopResult.NOT_FOUND);
		assertThat(heard).hasValue(0);
	}

	@Test
	void aSecondStopFindsItAlreadyStopped() {
		running("c1");
		fakeWorker(true);
		service.stop(StopCommand.byUser(user, "c1"));

		assertThat(service.stop(StopCommand.byUser(user, "c1")).result()).isEqualTo(StopResult.ALREADY_STOPPED);
	}

	@Test
	void aRunOfADeadWorkerIsReapedAtOnce() {
		RunRecord running = running("c1");
		liveness.heartbeat(worker, Duration.ofMillis(100));
		await().atMost(BOUND).until(() -> !liveness.isAlive(worker));

		assertThat(service.stop(StopCommand.byUser(user, "c1")).result()).isEqualTo(StopResult.NOT_FOUND);

		assertThat(registry.find(user, "c1")).isEmpty();
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::status)
			.containsExactly("complete", "interrupted");
		assertThat(running.runId()).isNotNull();
	}

	@Test
	void anAdminStopIsAuditedAsTheAdmin() {
		running("c1");
		fakeWorker(true);

		assertThat(service.stop(StopCommand.byAdmin("root", user, "c1")).result()).isEqualTo(StopResult.CONFIRMED);

		assertThat(audited()).singleElement().satisfies(entry -> {
			assertThat(entry.by()).isEqualTo("root");
			assertThat(entry.reason()).isEqualTo("admin");
		});
		assertThat(counted("admin", "confirmed")).isEqualTo(1);
	}

	@Test
	void theRateLimitRefusesBeforeAnythingChanges() {
		inbox.stop();
		service = service(new GatewayProperties.StopRateLimit(1, Duration.ofSeconds(60)));
		running("c1");
		fakeWorker(true);
		assertThat(service.stop(StopCommand.byUser(user, "c2")).result()).isEqualTo(StopResult.NOT_FOUND);

		assertThatThrownBy(() -> service.stop(StopCommand.byUser(user, "c1"))).isInstanceOfSatisfying(
				ErrorResponseException.class,
				refused -> assertThat(refused.getStatusCode()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS));

		assertThat(heard).hasValue(0);
		assertThat(registry.find(user, "c1")).isPresent();
		assertThat(counted("single", "rate_limited")).isEqualTo(1);
		assertThat(audited()).as("only the first stop").hasSize(1);
		assertThat(service.stop(StopCommand.byAdmin("root", user, "c1")).result())
			.as("an admin's stop takes no permit of the user's")
			.isEqualTo(StopResult.CONFIRMED);
	}

	private StopService service(GatewayProperties.StopRateLimit rate) {
		// a confirmation normally comes in milliseconds; the bound only has to outlast a
		// stall of the shared machine (the test that waits it out sets its own)
		return service(rate, Duration.ofSeconds(5));
	}

	private StopService service(GatewayProperties.StopRateLimit rate, Duration confirmTimeout) {
		GatewayProperties properties = new GatewayProperties("gw-" + UUID.randomUUID(), confirmTimeout, 256,
				Duration.ofSeconds(30), Duration.ofSeconds(2), 20, rate, 1024, List.of(), 1 << 20, 32,
				Duration.ofSeconds(11));
		registry = new RedisConversationRegistry(clients.template());
		stopRequests = new StopRequests(clients.template());
		liveness = new WorkerLiveness(clients.template());
		GatewayInboxes inboxes = new GatewayInboxes(clients.redisson());
		events = new RunEvents(clients.redisson(), inboxes);
		inbox = InboxFixtures.started(inboxes, events, properties);
		meters = new SimpleMeterRegistry();
		audit = new StopAudit(clients.template(), Runnable::run);
		StopMetrics metrics = new StopMetrics(meters, new StopStats(clients.template()));
		return new StopService(registry, stopRequests, inbox, events, liveness,
				new DeadWorkerReaper(registry, liveness, events), metrics, audit,
				new StopRateLimiter(stopRequests, metrics, properties), properties,
				new StopProperties(Duration.ofSeconds(60)),
				new io.stopline.core.run.RunReplays(clients.template(), Duration.ofSeconds(60)));
	}

	/**
	 * A worker that hears its stop channel and, when {@code answers}, records the stop
	 * and confirms it in one script, as the real one does.
	 */
	private void fakeWorker(boolean answers) {
		liveness.heartbeat(worker, Duration.ofSeconds(30));
		workerChannel = clients.redisson()
			.getTopic(Keys.workerStopChannel(worker), org.redisson.client.codec.StringCodec.INSTANCE);
		workerChannel.addListener(String.class, (channel, raw) -> {
			heard.incrementAndGet();
			if (!answers) {
				return;
			}
			StopRun stop = Json.read(raw, StopRun.class);
			RunRecord run = registry.find(stop.userId(), stop.conversationId()).orElseThrow();
			Instant now = Instant.now();
			RunEvent.RunStopped stopped = new RunEvent.RunStopped(run.runId(), run.conversationId(), stop.reason(),
					"partial", 1, now);
			registry.finish(run, RunOutcome.stopped("partial", stop.reason(), now),
					events.announcement(stop.userId(), List.of(stop.replyTo()), stopped, List.of()), List.of(raw));
		});
	}

	private long counted(String endpoint, String outcome) {
		var counter = meters.find("stopline.stop.requests").tag("endpoint", endpoint).tag("outcome", outcome).counter();
		return counter == null ? 0 : (long) counter.count();
	}

	private List<StopAudit.Entry> audited() {
		return audit.read(user, null, 100);
	}

	private RunRecord reserve(String conversationId) {
		RunRecord run = RunRecord.queued("run-" + UUID.randomUUID(), user, conversationId, "assistant", "gw-chat",
				Instant.now());
		registry.reserve(run, HistoryMessage.user("hello", run.runId(), Instant.now()));
		return run;
	}

	private RunRecord running(String conversationId) {
		return registry.claim(reserve(conversationId), worker, Instant.now()).orElseThrow();
	}

}
