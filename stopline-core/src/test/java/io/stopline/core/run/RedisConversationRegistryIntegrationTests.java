package io.stopline.core.run;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import io.stopline.core.run.ConversationRegistry.Reservation;
import io.stopline.protocol.HistoryMessage;
import io.stopline.testing.RedisClients;
import io.stopline.testing.TestRedis;
import io.stopline.core.schema.Keys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.stream.Consumer;
import org.springframework.data.redis.connection.stream.ReadOffset;
import org.springframework.data.redis.connection.stream.StreamOffset;
import org.springframework.data.redis.connection.stream.StreamReadOptions;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/** The registry contract against a real Redis. */
class RedisConversationRegistryIntegrationTests extends ConversationRegistryContractTests {

	private static RedisClients clients;

	@BeforeAll
	static void connect() {
		clients = new RedisClients(TestRedis.shared());
	}

	@AfterAll
	static void disconnect() {
		clients.close();
	}

	static RedisClients clients() {
		return clients;
	}

	@Override
	protected void forget(RunRecord run) {
		clients.template()
			.delete(java.util.List.of(Keys.runs(run.userId()), Keys.messages(run.userId(), run.conversationId()),
					Keys.workerRuns(run.workerId())));
	}

	@Override
	protected void loseClaim(RunRecord queued) {
		clients.template()
			.opsForHash()
			.put(Keys.runs(queued.userId()), queued.conversationId(),
					io.stopline.protocol.Json.write(StoredRun.of(queued)));
	}

	@Override
	protected ConversationRegistry createRegistry() {
		return new RedisConversationRegistry(clients.template());
	}

	/**
	 * Whether the reserve script itself queues the job (one script reaches the stream).
	 */
	protected boolean reserveQueuesJobs() {
		return true;
	}

	@Test
	void theClaimAnswersWhetherTheConversationIsWatched() {
		ConversationRegistry registry = createRegistry();
		String user = "user-" + UUID.randomUUID();
		RunRecord quiet = RunRecord.queued("r-" + UUID.randomUUID(), user, "c1", "assistant", "g-1", Instant.now());
		RunRecord watched = RunRecord.queued("r-" + UUID.randomUUID(), user, "c2", "assistant", "g-1", Instant.now());
		registry.reserve(quiet, HistoryMessage.user("hi", quiet.runId(), Instant.now()));
		registry.reserve(watched, HistoryMessage.user("hi", watched.runId(), Instant.now()));
		clients.template().opsForValue().set(Keys.conversationWatched(user, "c2"), "1");

		ConversationRegistry.Claim first = registry.take(quiet, "w-1", Instant.now()).orElseThrow();
		ConversationRegistry.Claim second = registry.take(watched, "w-1", Instant.now()).orElseThrow();

		assertThat(first.watched()).isFalse();
		assertThat(first.run().workerId()).isEqualTo("w-1");
		assertThat(second.watched()).isTrue();
		assertThat(registry.take(watched, "w-2", Instant.now())).as("claimed once").isEmpty();
		assertThat(registry.runsOf("w-2")).isEmpty();
	}

	@Test
	void aReservationQueuesItsJobInTheSameStepWhereOneScriptCanAndARefusedOneNothing() {
		ConversationRegistry registry = createRegistry();
		String user = "user-" + UUID.randomUUID();
		RunRecord run = RunRecord.queued("r-" + UUID.randomUUID(), user, "c1", "assistant", "g-1", Instant.now());
		RunRecord second = RunRecord.queued("r-" + UUID.randomUUID(), user, "c1", "assistant", "g-1", Instant.now());

		Reservation reserved = registry.reserve(run, HistoryMessage.user("hi", run.runId(), Instant.now()), 10,
				ConversationRegistry.WhenBusy.REJECT, enqueue(run));
		Reservation busy = registry.reserve(second, HistoryMessage.user("hi", second.runId(), Instant.now()), 10,
				ConversationRegistry.WhenBusy.REJECT, enqueue(second));

		assertThat(reserved).isEqualTo(new Reservation.Reserved(reserveQueuesJobs()));
		assertThat(busy).isInstanceOf(Reservation.Busy.class);
		assertThat(jobsOf(run)).isEqualTo(reserveQueuesJobs() ? 1 : 0);
		assertThat(jobsOf(second)).isZero();
	}

	/**
	 * The claim acknowledges and removes the run's job where one script reaches the job
	 * stream, whether or not it claims the run; on Redis Cluster it leaves the job to its
	 * caller.
	 */
	@Test
	void theClaimAcknowledgesTheJobWhereOneScriptCanClaimedOrNot() {
		ConversationRegistry registry = createRegistry();
		String user = "user-" + UUID.randomUUID();
		RunRecord run = RunRecord.queued("r-" + UUID.randomUUID(), user, "c1", "assistant", "g-1", Instant.now());
		registry.reserve(run, HistoryMessage.user("hi", run.runId(), Instant.now()));
		String claimed = pendingJob("{\"run\":\"" + run.runId() + "\"}");
		String refused = pendingJob("{\"run\":\"" + run.runId() + "\"}");

		assertThat(registry.take(run, "w-1", Instant.now(), null, claimed)).isPresent();
		assertThat(registry.take(run, "w-2", Instant.now(), null, refused)).as("claimed once").isEmpty();

		boolean inClaim = registry.acknowledgesJobsInClaim();
		assertThat(inClaim).isEqualTo(reserveQueuesJobs());
		assertThat(isPending(claimed)).isEqualTo(!inClaim);
		assertThat(isPending(refused)).isEqualTo(!inClaim);
		assertThat(clients.template().opsForStream().range(Keys.JOBS, Range.closed(claimed, claimed)))
			.hasSize(inClaim ? 0 : 1);
	}

	/** A job added to the stream and read by a consumer: pending until acknowledged. */
	private static String pendingJob(String job) {
		StringRedisTemplate redis = clients.template();
		try {
			redis.opsForStream().createGroup(Keys.JOBS, ReadOffset.from("0"), Keys.JOBS_GROUP);
		}
		catch (RuntimeException ex) {
			// the group is there already (BUSYGROUP)
		}
		String id = redis.opsForStream().add(Keys.JOBS, Map.of("job", job)).getValue();
		// read up to it: every entry before it is pending too, harmlessly
		while (redis.opsForStream()
			.read(Consumer.from(Keys.JOBS_GROUP, "test-reader"), StreamReadOptions.empty().count(100),
					StreamOffset.create(Keys.JOBS, ReadOffset.lastConsumed()))
			.stream()
			.noneMatch(entry -> entry.getId().getValue().equals(id))) {
			// the next page
		}
		return id;
	}

	private static boolean isPending(String id) {
		return !clients.template()
			.opsForStream()
			.pending(Keys.JOBS, Keys.JOBS_GROUP, Range.closed(id, id), 10)
			.isEmpty();
	}

	private static ConversationRegistry.Enqueue enqueue(RunRecord run) {
		return new ConversationRegistry.Enqueue("{\"run\":\"" + run.runId() + "\"}",
				new ConversationRegistry.Announcement.Publication("{}",
						List.of(Keys.conversationEvents(run.userId(), run.conversationId()))));
	}

	private static long jobsOf(RunRecord run) {
		return clients.template()
			.opsForStream()
			.range(Keys.JOBS, Range.unbounded())
			.stream()
			.filter(entry -> String.valueOf(entry.getValue().get("job")).contains(run.runId()))
			.count();
	}

}
