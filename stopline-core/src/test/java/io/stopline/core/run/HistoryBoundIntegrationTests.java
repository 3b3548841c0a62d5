package io.stopline.core.run;

import io.stopline.core.schema.Topology;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import io.stopline.protocol.StopReason;
import io.stopline.testing.RedisClients;
import io.stopline.testing.TestRedis;
import io.stopline.protocol.HistoryMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A conversation's history is bounded where it grows: the reservation that appends a user
 * message drops the oldest messages beyond {@code stopline.history.max-messages}, keeping
 * the first (the conversation's title).
 */
class HistoryBoundIntegrationTests {

	private static RedisClients clients;

	@BeforeAll
	static void connect() {
		clients = new RedisClients(TestRedis.shared());
	}

	@AfterAll
	static void disconnect() {
		clients.close();
	}

	@Test
	void aLongConversationKeepsItsFirstMessageAndTheNewest() {
		ConversationRegistry registry = new RedisConversationRegistry(clients.template(), null, Runnable::run,
				Topology.SINGLE_SLOT, 6);
		String user = "user-" + UUID.randomUUID();
		List<Integer> lengths = new ArrayList<>();
		for (int turn = 0; turn < 10; turn++) {
			RunRecord run = RunRecord.queued("r-" + turn, user, "c1", "assistant", "g-1", Instant.now());
			assertThat(registry.reserve(run, HistoryMessage.user("question " + turn, run.runId(), Instant.now())))
				.isInstanceOf(ConversationRegistry.Reservation.Reserved.class);
			lengths.add(registry.history(user, "c1").size());
			RunRecord claimed = registry.claim(run, "w-1", Instant.now()).orElseThrow();
			assertThat(registry.finish(claimed, RunOutcome.complete("answer " + turn, Instant.now()))).isTrue();
		}

		List<HistoryMessage> history = registry.history(user, "c1");
		assertThat(lengths).allMatch(length -> length <= 6);
		assertThat(history).hasSizeLessThanOrEqualTo(6 + 2);
		assertThat(history).extracting(HistoryMessage::content)
			.startsWith("question 0")
			.endsWith("question 9", "answer 9")
			.doesNotContain("question 5");
		assertThat(registry.conversations(user, 10)).extracting(ConversationRegistry.ConversationSummary::title)
			.containsExactly("question 0");
	}

	@Test
	void zeroKeepsEverythingAndTooSmallABoundIsRefused() {
		ConversationRegistry registry = new RedisConversationRegistry(clients.template(), null, Runnable::run,
				Topology.SINGLE_SLOT, 0);
		String user = "user-" + UUID.randomUUID();
		for (int turn = 0; turn < 12; turn++) {
			RunRecord run = RunRecord.queued("r-" + turn, user, "c1", "assistant", "g-1", Instant.now());
			registry.reserve(run, HistoryMessage.user("question " + turn, run.runId(), Instant.now()));
			registry.finishQueued(run, RunOutcome.stopped("", StopReason.USER, Instant.now()));
		}
		assertThat(registry.history(user, "c1")).hasSizeGreaterThanOrEqualTo(12);
		assertThatThrownBy(() -> new HistoryProperties(3)).isInstanceOf(IllegalArgumentException.class);
	}

}
