package io.stopline.starter.task;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import io.stopline.protocol.StopReason;

/**
 * The runs executing on this worker, by conversation. Thread-safe; a conversation holds
 * at most one task here, and removal is by identity so a finishing task never removes its
 * successor.
 */
public class LocalTaskRegistry {

	private final ConcurrentMap<Key, RunningTask> tasks = new ConcurrentHashMap<>();

	/**
	 * False when the conversation already has a live task on this worker. A task that is
	 * only recording its outcome gives way: its confirmation may already be out (it
	 * leaves with the outcome's write) and the next run of the conversation must not be
	 * refused for the moment until it unregisters.
	 */
	boolean register(RunningTask task) {
		return tasks.compute(Key.of(task),
				(key, existing) -> existing == null || existing.isFinishing() ? task : existing) == task;
	}

	void unregister(RunningTask task) {
		tasks.remove(Key.of(task), task);
	}

	public Optional<RunningTask> find(String userId, String conversationId) {
		return Optional.ofNullable(tasks.get(new Key(userId, conversationId)));
	}

	public List<RunningTask> list() {
		return List.copyOf(tasks.values());
	}

	public List<RunningTask> listOf(String userId) {
		return tasks.values().stream().filter(task -> task.userId().equals(userId)).toList();
	}

	/**
	 * Stops one run if it is here and is that run; returns what happened, empty when it
	 * is not here.
	 */
	public Optional<StopAttempt> stop(String userId, String conversationId, String runId, StopReason reason) {
		return find(userId, conversationId).filter(task -> task.runId().equals(runId))
			.map(task -> task.requestStop(reason));
	}

	/** Stops every run of a user on this worker; returns how many stops were accepted. */
	public int stopAllOf(String userId, StopReason reason) {
		return (int) listOf(userId).stream().filter(task -> task.requestStop(reason) == StopAttempt.ACCEPTED).count();
	}

	public int size() {
		return tasks.size();
	}

	/**
	 * The tasks still generating: neither stopping nor ending (those may stay registered
	 * a while longer, recording their outcome).
	 */
	public int generating() {
		return (int) tasks.values().stream().filter(RunningTask::isRunning).count();
	}

	private record Key(String userId, String conversationId) {

		static Key of(RunningTask task) {
			return new Key(task.userId(), task.conversationId());
		}
	}

}
