package io.stopline.core.run;

import java.time.Instant;

import io.stopline.protocol.RunState;
import org.jspecify.annotations.Nullable;

/**
 * A {@link RunRecord} as stored in {@code stopline:{u:<user>}:runs}: the user id and the
 * conversation id are already the key and the field, so they are not repeated, and times
 * are epoch milliseconds. About 150 bytes a run instead of 260.
 *
 * <pre>
 * {"run":"run-…","state":"running","worker":"w-a","agent":"assistant","reply":"gw-1","queued":1767000000000,"started":1767000000123}
 * </pre>
 */
record StoredRun(String run, String state, @Nullable String worker, String agent, String reply, long queued,
		@Nullable Long started) {

	static StoredRun of(RunRecord record) {
		return new StoredRun(record.runId(), record.state().wireName(), record.workerId(), record.agentName(),
				record.replyTo(), record.queuedAt().toEpochMilli(),
				record.startedAt() == null ? null : record.startedAt().toEpochMilli());
	}

	RunRecord toRecord(String userId, String conversationId) {
		return new RunRecord(run, userId, conversationId, agent, RunState.of(state), worker, reply,
				Instant.ofEpochMilli(queued), started == null ? null : Instant.ofEpochMilli(started));
	}

}
