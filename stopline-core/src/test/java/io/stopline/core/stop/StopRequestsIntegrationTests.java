package io.stopline.core.stop;

import io.stopline.core.schema.Topology;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.stopline.protocol.Json;
import io.stopline.protocol.StopReason;
import io.stopline.protocol.StopRun;
import io.stopline.core.run.ConversationRegistry.StopTarget;
import io.stopline.core.stop.StopRequests.Lookup;
import io.stopline.testing.RedisClients;
import io.stopline.testing.TestRedis;
import io.stopline.core.run.RedisConversationRegistry;
import io.stopline.core.run.RunOutcome;
import io.stopline.core.run.RunRecord;
import io.stopline.core.run.RunReplays;
import io.stopline.protocol.RunEvent;
import io.stopline.protocol.TokenOffsets;
import io.stopline.core.schema.Keys;
import io.stopline.protocol.HistoryMessage;
import io.stopline.core.run.ConversationRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.client.codec.StringCodec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A stop request's one round trip (permit, lookup, record and publish) and the finish
 * script that publishes the confirmation with the outcome, against a real Redis.
 */
class StopRequestsIntegrationTests {

	private static final StopRequests.Rate GENEROUS = new StopRequests.Rate(1000, Duration.ofSeconds(1));

	private static RedisClients clients;

	private RedisConversationRegistry registry;

	private StopRequests stopRequests;

	private String user;

	private String worker;

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
		registry = new RedisConversationRegistry(clients.template());
		stopRequests = new StopRequests(clients.template());
		user = "user-" + UUID.randomUUID();
		worker = "w-" + UUID.randomUUID();
	}

	@Test
	void aRunningRunIsRecordedAndPublishedToItsWorkerInTheSameScript() throws InterruptedException {
		RunRecord running = running("c1");
		BlockingQueue<String> heard = subscribe(Keys.workerStopChannel(worker));

		Lookup lookup = stopRequests.request(user, "c1", GENEROUS, request("c1"));

		Lookup.Found found = (Lookup.Found) lookup;
		assertThat(found.target()).isEqualTo(new StopTarget.Active(running));
		assertThat(found.signalled()).isNotNull();
		assertThat(found.signalled().receivers()).isEqualTo(1);
		StopRun sent = Json.read(found.signalled().request(), StopRun.class);
		assertThat(sent.runId()).isEqualTo(running.runId());
		assertThat(sent.conversationId()).isEqualTo("c1");
		assertThat(heard.poll(5, TimeUnit.SECONDS)).isEqualTo(found.signalled().request());
		assertThat(stopRequests.pending(worker)).containsExactly(found.signalled().request());
	}

	@Test
	void aQueuedRunIsOnlyLookedUp() {
		reserve("c1");
		RunRecord queued = registry.find(user, "c1").orElseThrow();

		Lookup lookup = stopRequests.request(user, "c1", GENEROUS, request("c1"));

		assertThat(lookup).isEqualTo(new Lookup.Found(new StopTarget.Active(queued), null));
		assertThat(stopRequests.pending(worker)).isEmpty();
	}

	@Test
	void unknownAndRecentlyStoppedConversationsAreReported() {
		assertThat(stopRequests.request(user, "c1", GENEROUS, request("c1")))
			.isEqualTo(new Lookup.Found(new StopTarget.NotFound(), null));
		RunRecord running = running("c2");
		registry.finish(running, RunOutcome.stopped("par", StopReason.USER, Instant.now()));

		assertThat(stopRequests.request(user, "c2", GENEROUS, request("c2")))
			.isEqualTo(new Lookup.Found(new StopTarget.RecentlyStopped(running.runId()), null));
	}

	@Test
	void theRateLimitRefusesBeforeAnythingIsRecorded() {
		running("c1");
		StopRequests.Rate two = new StopRequests.Rate(2, Duration.ofHours(1));

		assertThat(stopRequests.request(user, "c1", two, request("c1"))).isInstanceOf(Lookup.Found.class);
		assertThat(stopRequests.request(user, "c1", two, request("c1"))).isInstanceOf(Lookup.Found.class);
		assertThat(stopRequests.request(user, "c1", two, request("c1"))).isInstanceOf(Lookup.Limited.class);

		assertThat(stopRequests.pending(worker)).hasSize(2);
		assertThat(stopRequests.takePermit(user, two)).isFalse();
		// another user has a bucket of its own; a stop without a rate takes no permit
		assertThat(stopRequests.takePermit("other-" + user, two)).isTrue();
		assertThat(stopRequests.request(user, "c1", null, request("c1"))).isInstanceOf(Lookup.Found.class);
	}

	@Test
	void theBucketRefillsOnRedisClockAndExpires() {
		StopRequests.Rate one = new StopRequests.Rate(1, Duration.ofMillis(300));

		assertThat(stopRequests.takePermit(user, one)).isTrue();
		assertThat(stopRequests.takePermit(user, one)).isFalse();

		await().atMost(Duration.ofSeconds(5)).until(() -> stopRequests.takePermit(user, one));
		assertThat(clients.template().getExpire(Keys.stopRate(user), TimeUnit.MILLISECONDS)).isBetween(1L, 300L);
	}

	@Test
	void theClaimPublishesTheStartOnlyWhenItClaimedTheRun() throws InterruptedException {
		assertClaimAnnounces(registry);
	}

	@Test
	void onClusterTheStartIsPublishedAfterTheClaim() throws InterruptedException {
		assertClaimAnnounces(new RedisConversationRegistry(clients.template(), null, Runnable::run, Topology.CLUSTER));
	}

	private void assertClaimAnnounces(RedisConversationRegistry registry) throws InterruptedException {
		RunRecord queued = RunRecord.queued("run-" + UUID.randomUUID(), user, "c1", "assistant", "gw-test",
				Instant.now());
		registry.reserve(queued, HistoryMessage.user("hello", queued.runId(), Instant.now()));
		BlockingQueue<String> inbox = subscribe("test-inbox-" + user);
		BlockingQueue<String> conversation = subscribe(Keys.conversationEvents(user, "c1"));
		ConversationRegistry.Announcement started = announcement("{\"started\":1}");

		assertThat(registry.take(queued, worker, Instant.now(), started, null)).isPresent();

		assertThat(inbox.poll(5, TimeUnit.SECONDS)).isEqualTo("{\"started\":1}");
		assertThat(conversation.poll(5, TimeUnit.SECONDS)).isEqualTo("{\"started\":1}");
		assertThat(conversation.poll(5, TimeUnit.SECONDS)).as("in order").isEqualTo("{\"added\":1}");

		// a second claim (the job delivered twice) claims nothing and announces nothing
		assertThat(registry.take(queued, "w-other", Instant.now(), started, null)).isEmpty();
		assertNothingAnnouncedBefore(inbox, conversation);
	}

	@Test
	void finishPublishesItsAnnouncementOnlyWhenItEndedTheRun() throws InterruptedException {
		RunRecord running = running("c1");
		BlockingQueue<String> inbox = subscribe("test-inbox-" + user);
		BlockingQueue<String> conversation = subscribe(Keys.conversationEvents(user, "c1"));
		ConversationRegistry.Announcement announcement = announcement("{\"stopped\":1}");

		assertThat(
				registry.finish(running, RunOutcome.stopped("partial", StopReason.USER, Instant.now()), announcement))
			.isTrue();

		assertThat(inbox.poll(5, TimeUnit.SECONDS)).isEqualTo("{\"stopped\":1}");
		assertThat(conversation.poll(5, TimeUnit.SECONDS)).isEqualTo("{\"stopped\":1}");
		assertThat(conversation.poll(5, TimeUnit.SECONDS)).as("in order").isEqualTo("{\"added\":1}");
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::content).contains("partial");

		// a second finish is fenced out: it ends nothing and announces nothing (a phantom
		// message would show watchers what the history does not hold). What the
		// channels carry next is a marker published after it.
		assertThat(registry.finish(running, RunOutcome.stopped("late", StopReason.USER, Instant.now()), announcement))
			.isFalse();
		assertNothingAnnouncedBefore(inbox, conversation);
		assertThat(registry.history(user, "c1")).extracting(HistoryMessage::content).doesNotContain("late");
	}

	/**
	 * {@code first} to the test's inbox and the conversation, then a message added to the
	 * conversation.
	 */
	private ConversationRegistry.Announcement announcement(String first) {
		return new ConversationRegistry.Announcement(List.of(
				new ConversationRegistry.Announcement.Publication(first,
						List.of("test-inbox-" + user, Keys.conversationEvents(user, "c1"))),
				new ConversationRegistry.Announcement.Publication("{\"added\":1}",
						List.of(Keys.conversationEvents(user, "c1")))));
	}

	/**
	 * What both channels carry next is a marker published now: nothing came before it.
	 */
	private void assertNothingAnnouncedBefore(BlockingQueue<String> inbox, BlockingQueue<String> conversation)
			throws InterruptedException {
		clients.template().convertAndSend("test-inbox-" + user, "marker");
		clients.template().convertAndSend(Keys.conversationEvents(user, "c1"), "marker");
		assertThat(inbox.poll(5, TimeUnit.SECONDS)).isEqualTo("marker");
		assertThat(conversation.poll(5, TimeUnit.SECONDS)).isEqualTo("marker");
	}

	@Test
	void finishSettlesTheRecordedRequestsAndTheWorkerIndexEntryInTheSameScript() {
		assertFinishSettles(registry);
	}

	@Test
	void onClusterTheWorkersSlotIsCleanedUpAfterTheFinish() {
		// the same contract where the worker's keys are in another slot: a second step
		assertFinishSettles(new RedisConversationRegistry(clients.template(), null, Runnable::run, Topology.CLUSTER));
	}

	private void assertFinishSettles(RedisConversationRegistry registry) {
		RunRecord running = registry.claim(reserve("c1"), worker, Instant.now()).orElseThrow();
		String settled = ((Lookup.Found) stopRequests.request(user, "c1", GENEROUS, request("c1"))).signalled()
			.request();
		String later = ((Lookup.Found) stopRequests.request(user, "c1", GENEROUS, request("c1"))).signalled().request();
		assertThat(registry.runsOf(worker)).hasSize(1);

		RunReplays replays = new RunReplays(clients.template(), Duration.ofSeconds(60));
		RunEvent.RunStopped stopped = new RunEvent.RunStopped(running.runId(), "c1", StopReason.USER, "partial", 1,
				Instant.now(), null, List.of());

		assertThat(registry
			.finish(running, RunOutcome.stopped("partial", StopReason.USER, Instant.now()), null, List.of(settled),
					replays.write(user,
							new RunReplays.Replay("assistant", running.queuedAt(), stopped, TokenOffsets.NONE))))
			.isTrue();

		assertThat(stopRequests.pending(worker)).as("only the request the finish settled is gone")
			.containsExactly(later);
		assertThat(registry.runsOf(worker)).isEmpty();
		assertThat(replays.find(user, "c1", running.runId())).as("the replay, written with the outcome")
			.hasValueSatisfying(replay -> assertThat(replay.terminal()).isInstanceOf(RunEvent.RunStopped.class)
				.extracting(RunEvent::runId)
				.isEqualTo(running.runId()));
		// a finish fenced out writes no replay
		clients.template().delete(Keys.runReplay(user, "c1", running.runId()));
		assertThat(
				registry.finish(running, RunOutcome.stopped("late", StopReason.USER, Instant.now()), null, List.of(),
						replays.write(user,
								new RunReplays.Replay("assistant", running.queuedAt(), stopped, TokenOffsets.NONE))))
			.isFalse();
		assertThat(replays.find(user, "c1", running.runId())).isEmpty();
	}

	@Test
	void aStopForARunIdThatHasNotArrivedRefusesItsSendWhenItComes() {
		Lookup lookup = stopRequests.request(user, "c1", GENEROUS, request("c1"), "r-early", Duration.ofSeconds(60));

		assertThat(lookup).isEqualTo(new Lookup.StoppedBefore());
		RunRecord late = RunRecord.queued("r-early", user, "c1", "assistant", "gw-test", Instant.now());
		assertThat(registry.reserve(late, HistoryMessage.user("hello", "r-early", Instant.now())))
			.isInstanceOf(ConversationRegistry.Reservation.StoppedBefore.class);
		assertThat(registry.find(user, "c1")).as("nothing reserved").isEmpty();
		assertThat(registry.history(user, "c1")).isEmpty();
		assertThat(registry.reserve(late, HistoryMessage.user("hello", "r-early", Instant.now())))
			.as("a retry of the send is refused the same way")
			.isInstanceOf(ConversationRegistry.Reservation.StoppedBefore.class);
		RunRecord other = RunRecord.queued("r-other", user, "c1", "assistant", "gw-test", Instant.now());
		assertThat(registry.reserve(other, HistoryMessage.user("hello", "r-other", Instant.now())))
			.as("another run id of the conversation is not affected")
			.isEqualTo(new ConversationRegistry.Reservation.Reserved());
	}

	@Test
	void aStopForARunIdLeavesTheActiveRunOfAnotherIdAlone() {
		RunRecord running = running("c1");
		BlockingQueue<String> heard = subscribe(Keys.workerStopChannel(worker));

		assertThat(stopRequests.request(user, "c1", GENEROUS, request("c1"), "r-next", Duration.ofSeconds(60)))
			.isEqualTo(new Lookup.StoppedBefore());
		assertThat(heard).isEmpty();
		assertThat(stopRequests.pending(worker)).isEmpty();
		Lookup.Found found = (Lookup.Found) stopRequests.request(user, "c1", GENEROUS, request("c1"), running.runId(),
				Duration.ofSeconds(60));
		assertThat(found.signalled()).as("its own id stops it").isNotNull();
	}

	@Test
	void aStopForARunIdThatEndedIsNotATombstone() {
		RunRecord running = running("c1");
		registry.finish(running, RunOutcome.complete("done", Instant.now()));

		assertThat(stopRequests.request(user, "c1", GENEROUS, request("c1"), running.runId(), Duration.ofSeconds(60)))
			.isEqualTo(new Lookup.Found(new StopTarget.NotFound(), null));
		assertThat(registry.reserve(running, HistoryMessage.user("again", running.runId(), Instant.now())))
			.as("a send of its id again is answered with its end")
			.isEqualTo(new ConversationRegistry.Reservation.Ended());
	}

	private BlockingQueue<String> subscribe(String channel) {
		BlockingQueue<String> heard = new LinkedBlockingQueue<>();
		clients.redisson().getTopic(channel, StringCodec.INSTANCE).addListener(String.class, (ch, message) -> {
			heard.add(message);
		});
		return heard;
	}

	private StopRun request(String conversationId) {
		return new StopRun(UUID.randomUUID().toString(), "", user, conversationId, StopReason.USER, "gw-test",
				Instant.now());
	}

	private RunRecord reserve(String conversationId) {
		RunRecord run = RunRecord.queued("run-" + UUID.randomUUID(), user, conversationId, "assistant", "gw-test",
				Instant.now());
		registry.reserve(run, HistoryMessage.user("hello", run.runId(), Instant.now()));
		return run;
	}

	private RunRecord running(String conversationId) {
		return registry.claim(reserve(conversationId), worker, Instant.now()).orElseThrow();
	}

}
