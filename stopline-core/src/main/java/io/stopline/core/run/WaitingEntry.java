package io.stopline.core.run;

import io.stopline.protocol.Json;

/**
 * An entry of a conversation's waiting list
 * ({@code stopline:{u:<user>}:conv:<id>:waiting}, see reserve.lua and finish.lua):
 * everything the finish that ends the active run needs to start this one in the same
 * script. Strings only (the scripts test for {@code ''}, not null).
 *
 * @param run the run id
 * @param mode the request's {@code on_active}
 * @param after the run this one replaces ({@code interrupt}, {@code rollback}), set by
 * reserve.lua; empty for {@code enqueue}
 * @param record the run's record (queued) as stored in the runs hash
 * @param message the user message, appended when the run starts
 * @param job the {@code StartRun} JSON
 * @param jobs the job stream, or empty where the script cannot reach it (Redis Cluster:
 * the caller adds the job)
 * @param queued the queued-runs zset, or empty likewise
 * @param queuedEntry the run's queued-runs member
 * @param maxHistory the history bound (0: none)
 * @param channel the conversation's event channel (the user's slot)
 * @param publish the command that publishes on it
 * @param added the {@code message_added} event of the user message
 * @param rolledBack the {@code run_rolled_back} event, its run id filled in by the script
 */
record WaitingEntry(String run, String mode, String after, String record, String message, String job, String jobs,
		String queued, String queuedEntry, String maxHistory, String channel, String publish, String added,
		String rolledBack) {

	static WaitingEntry read(String json) {
		return Json.read(json, WaitingEntry.class);
	}

	RunRecord toRecord(String userId, String conversationId) {
		return RedisConversationRegistry.read(record, userId, conversationId);
	}

}
