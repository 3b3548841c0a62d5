package io.stopline.core.run;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import io.stopline.protocol.Json;
import io.stopline.protocol.RunEvent;
import io.stopline.core.schema.Keys;
import io.stopline.protocol.TokenOffsets;

import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * What a resumed chat stream needs of a run that has ended: its terminal event (the
 * recorded answer, how it ended) and where its frames end. The worker writes it once, in
 * the script that records the run's outcome (before the end is announced), with a TTL of
 * {@link ResumeProperties#grace()}; a running run is resumed from its worker's snapshot
 * instead. One key per run, under the user's hash tag:
 *
 * <pre>
 * SET stopline:{u:alice}:conv:c-42:replay:r-1 '{"agentName":…,"queuedAt":…,"terminal":{…},"offsets":{…}}' PX 60000
 * GET stopline:{u:alice}:conv:c-42:replay:r-1
 * </pre>
 */
public final class RunReplays {

	private final StringRedisTemplate redis;

	private final Duration grace;

	public RunReplays(StringRedisTemplate redis, Duration grace) {
		this.redis = redis;
		this.grace = grace;
	}

	/**
	 * A run's replay.
	 *
	 * @param agentName and {@code queuedAt}: the chunks of a resumed stream are those of
	 * the original one ({@code model}, {@code created})
	 * @param terminal {@link RunEvent.RunCompleted}, {@link RunEvent.RunStopped} or
	 * {@link RunEvent.RunFailed}
	 */
	public record Replay(String agentName, Instant queuedAt, RunEvent terminal, TokenOffsets offsets) {

		/** Tokens of the recorded answer. */
		public int tokens() {
			return offsets.totalTokens();
		}

	}

	public void record(String userId, Replay replay) {
		Write write = write(userId, replay);
		redis.opsForValue().set(write.key(), write.json(), write.ttl());
	}

	/**
	 * The replay as its write, for
	 * {@link ConversationRegistry#finish(RunRecord, RunOutcome, ConversationRegistry.Announcement, java.util.Collection, Write)}
	 * to make in the script that records the outcome: it is there before the run's end is
	 * announced.
	 */
	public Write write(String userId, Replay replay) {
		RunEvent terminal = replay.terminal();
		// PX takes whole milliseconds, and 0 is an error
		return new Write(Keys.runReplay(userId, terminal.conversationId(), terminal.runId()), Json.write(replay),
				grace.compareTo(Duration.ofMillis(1)) < 0 ? Duration.ofMillis(1) : grace);
	}

	/** A replay's key, value and TTL. */
	public record Write(String key, String json, Duration ttl) {
	}

	public Optional<Replay> find(String userId, String conversationId, String runId) {
		String json = redis.opsForValue().get(Keys.runReplay(userId, conversationId, runId));
		return Optional.ofNullable(json).map(value -> Json.read(value, Replay.class));
	}

	public Duration grace() {
		return grace;
	}

}
