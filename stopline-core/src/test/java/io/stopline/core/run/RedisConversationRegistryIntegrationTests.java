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

import org.springframework.data.domain.Range;

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
