package io.stopline.core.run;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Executor;

import io.stopline.core.schema.Keys;
import io.stopline.core.schema.LuaScripts;
import io.stopline.core.schema.Topology;
import io.stopline.protocol.Json;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The registry's writes that reach past the user's slot (the queued-runs zset, the
 * worker's index and stop set), in the one shape the {@link Topology} allows: inside the
 * user's script on a single slot ({@link InScript}), in steps around it on Redis Cluster
 * ({@link AroundScript}). Either way the worker index covers the records: written before
 * a claim takes effect, shrunk only after the record is gone.
 */
abstract sealed class SlotWrites permits SlotWrites.InScript, SlotWrites.AroundScript {

	private static final Logger log = LoggerFactory.getLogger(RedisConversationRegistry.class);

	final StringRedisTemplate redis;

	final Executor afterFinish;

	private SlotWrites(StringRedisTemplate redis, Executor afterFinish) {
		this.redis = redis;
		this.afterFinish = afterFinish;
	}

	static SlotWrites of(Topology topology, StringRedisTemplate redis, Executor afterFinish) {
		return switch (topology) {
			case Topology.SingleSlot single -> new InScript(redis, afterFinish);
			case Topology.Cluster cluster -> new AroundScript(redis, afterFinish);
		};
	}

	/**
	 * Runs the reserve script on {@code userKeys}; its answer (null: reserved).
	 * @param enqueue the run's announcement and job, published and added in the same step
	 * when {@link #queuesJobs()} (else the caller does it)
	 * @param args the script's arguments, the queued-runs entry among them
	 */
	abstract @Nullable String reserve(List<String> userKeys, String queuedEntry, long queuedAt,
			ConversationRegistry.@Nullable Enqueue enqueue, Object... args);

	/** Whether {@link #reserve} adds the job to the job stream itself. */
	abstract boolean queuesJobs();

	/**
	 * Claims the queued run for the worker and indexes it; the claim script's answer (the
	 * claimed record's JSON and the watched mark), null when not claimed. The
	 * {@code announcement} is published when the run is claimed, in the same step where
	 * one script can reach its channels (the caller passes none on Redis Cluster).
	 */
	abstract @Nullable List<?> claim(RunRecord queued, String workerId, String at,
			ConversationRegistry.@Nullable Announcement announcement, @Nullable String jobEntry);

	/**
	 * Whether {@link #claim} acknowledges the run's job (removes its entry from the job
	 * stream) itself when given its entry id (else the caller does).
	 */
	abstract boolean acknowledgesJobs();

	/**
	 * The script arguments of {@code announcement}'s publications (publish.lua): event
	 * JSON, channel count, channels, for each.
	 */
	static void addPublications(List<? super String> args, ConversationRegistry.@Nullable Announcement announcement) {
		if (announcement != null) {
			for (ConversationRegistry.Announcement.Publication publication : announcement.publications()) {
				args.add(publication.event());
				args.add(Integer.toString(publication.channels().size()));
				args.addAll(publication.channels());
			}
		}
	}

	/**
	 * Runs the finish script on {@code userKeys}; whether it ended the run. A waiting run
	 * it started has its job queued.
	 */
	abstract boolean finish(RunRecord run, List<String> userKeys, List<String> args);

	/**
	 * Whether the finish script adds a started waiting run's job itself (else the caller
	 * does, after it).
	 */
	abstract boolean startsJobsInScript();

	/** What follows a finish in the worker's slot, off the caller's path. */
	abstract void afterFinish(RunRecord run, Collection<String> settledStops);

	/** Removes the run's queued-runs entry off the caller's path. */
	void unqueueLater(RunRecord run) {
		String entry = queuedEntry(run);
		afterFinish.execute(() -> {
			try {
				redis.opsForZSet().remove(Keys.QUEUED, entry);
			}
			catch (RuntimeException ex) {
				// a stale entry is pruned by the next sweep that looks at it
				log.debug("could not remove the queued entry of run {}: {}", run.runId(), ex.toString());
			}
		});
	}

	/** A member of {@code stopline:queued}: {@code ["alice","c-42","r-1"]}. */
	static String queuedEntry(RunRecord run) {
		return Json.write(List.of(run.userId(), run.conversationId(), run.runId()));
	}

	static boolean ended(@Nullable List<?> answer) {
		return answer != null && !answer.isEmpty() && Long.valueOf(1L).equals(answer.get(0));
	}

	/** One Redis or Sentinel: the user's script writes the other slots' keys too. */
	static final class InScript extends SlotWrites {

		private InScript(StringRedisTemplate redis, Executor afterFinish) {
			super(redis, afterFinish);
		}

		@Override
		@Nullable String reserve(List<String> userKeys, String queuedEntry, long queuedAt,
				ConversationRegistry.@Nullable Enqueue enqueue, Object... args) {
			List<String> keys = new ArrayList<>(userKeys);
			keys.add(Keys.QUEUED);
			if (enqueue == null) {
				return redis.execute(LuaScripts.RESERVE, keys, args);
			}
			// KEYS[8], ARGV[8..10]: the job, and the announcement published before it
			keys.add(Keys.JOBS);
			List<Object> withJob = new ArrayList<>(List.of(args));
			withJob.add(enqueue.job());
			withJob.add(enqueue.announcement().event());
			withJob.add(enqueue.announcement().channels().getFirst());
			return redis.execute(LuaScripts.RESERVE, keys, withJob.toArray());
		}

		@Override
		boolean queuesJobs() {
			return true;
		}

		@Override
		@Nullable List<?> claim(RunRecord queued, String workerId, String at,
				ConversationRegistry.@Nullable Announcement announcement, @Nullable String jobEntry) {
			List<Object> args = new ArrayList<>(List.of(queued.conversationId(), queued.runId(), workerId, at,
					RedisConversationRegistry.WorkerRunJson.of(queued), queuedEntry(queued), Keys.JOBS_GROUP,
					jobEntry == null ? "" : jobEntry));
			addPublications(args, announcement);
			return redis.execute(LuaScripts.CLAIM,
					List.of(Keys.runs(queued.userId()),
							Keys.conversationWatched(queued.userId(), queued.conversationId()),
							Keys.workerRuns(workerId), Keys.QUEUED, Keys.JOBS),
					args.toArray());
		}

		@Override
		boolean acknowledgesJobs() {
			return true;
		}

		@Override
		boolean finish(RunRecord run, List<String> userKeys, List<String> args) {
			List<String> keys = new ArrayList<>(userKeys);
			if (run.workerId() != null) {
				keys.add(Keys.workerRuns(run.workerId()));
				keys.add(Keys.workerStops(run.workerId()));
			}
			return ended(redis.execute(LuaScripts.FINISH, keys, args.toArray()));
		}

		@Override
		boolean startsJobsInScript() {
			return true;
		}

		@Override
		void afterFinish(RunRecord run, Collection<String> settledStops) {
			// the finish script removed the index entry and the settled stop requests
		}

	}

	/**
	 * Redis Cluster: one script reaches one slot, so the other slots' keys are written in
	 * steps of their own, ordered so that the worker index always covers the records.
	 */
	static final class AroundScript extends SlotWrites {

		private AroundScript(StringRedisTemplate redis, Executor afterFinish) {
			super(redis, afterFinish);
		}

		@Override
		@Nullable String reserve(List<String> userKeys, String queuedEntry, long queuedAt,
				ConversationRegistry.@Nullable Enqueue enqueue, Object... args) {
			// the job stream and the channel are in other slots: the caller announces
			// and queues
			// added first, so the queued-runs zset covers every queued record
			redis.opsForZSet().add(Keys.QUEUED, queuedEntry, queuedAt);
			String existing = redis.execute(LuaScripts.RESERVE, userKeys, args);
			if (existing != null) {
				redis.opsForZSet().remove(Keys.QUEUED, queuedEntry);
			}
			return existing;
		}

		@Override
		boolean queuesJobs() {
			return false;
		}

		@Override
		boolean acknowledgesJobs() {
			return false;
		}

		@Override
		@Nullable List<?> claim(RunRecord queued, String workerId, String at,
				ConversationRegistry.@Nullable Announcement announcement, @Nullable String jobEntry) {
			// the job stream is in another slot: the caller acknowledges the job
			String index = Keys.workerRuns(workerId);
			// the index is in the worker's slot: written first, so it covers the record
			redis.opsForHash().put(index, queued.runId(), RedisConversationRegistry.WorkerRunJson.of(queued));
			List<?> claimed = redis.execute(LuaScripts.CLAIM,
					List.of(Keys.runs(queued.userId()),
							Keys.conversationWatched(queued.userId(), queued.conversationId())),
					queued.conversationId(), queued.runId(), workerId, at);
			if (claimed == null || claimed.isEmpty()) {
				redis.opsForHash().delete(index, queued.runId());
			}
			else {
				// the channels are in other slots: published after the claim, in order
				// (RunEvents makes no announcement for Redis Cluster, its callers
				// publish)
				if (announcement != null) {
					announcement.publications()
						.forEach(publication -> publication.channels()
							.forEach(channel -> redis.convertAndSend(channel, publication.event())));
				}
				unqueueLater(queued);
			}
			return claimed;
		}

		@Override
		boolean finish(RunRecord run, List<String> userKeys, List<String> args) {
			List<?> answer = redis.execute(LuaScripts.FINISH, userKeys, args.toArray());
			if (answer != null && answer.size() > 1) {
				queueStarted(WaitingEntry.read((String) answer.get(1)), run);
			}
			return ended(answer);
		}

		@Override
		boolean startsJobsInScript() {
			return false;
		}

		/**
		 * The job of the waiting run the finish started, with its queued-runs entry first
		 * (the sweep of queued runs without a job covers a job lost in between).
		 */
		private void queueStarted(WaitingEntry started, RunRecord finished) {
			redis.opsForZSet().add(Keys.QUEUED, started.queuedEntry(), System.currentTimeMillis());
			redis.opsForStream()
				.add(org.springframework.data.redis.connection.stream.StreamRecords.newRecord()
					.ofMap(java.util.Map.of("job", started.job()))
					.withStreamKey(Keys.JOBS));
			log.debug("run {} started after run {}", started.run(), finished.runId());
		}

		@Override
		void afterFinish(RunRecord run, Collection<String> settledStops) {
			if (run.workerId() != null) {
				List<String> settled = List.copyOf(settledStops);
				afterFinish.execute(() -> cleanUpWorkerSlot(run, settled));
			}
		}

		/**
		 * The cleanup in the worker's slot, after the finish. The index may only shrink
		 * after the record is gone (the reaper relies on index ⊇ records).
		 */
		private void cleanUpWorkerSlot(RunRecord run, List<String> settledStops) {
			try {
				redis.opsForHash().delete(Keys.workerRuns(run.workerId()), run.runId());
				if (!settledStops.isEmpty()) {
					redis.opsForZSet().remove(Keys.workerStops(run.workerId()), settledStops.toArray());
				}
			}
			catch (RuntimeException ex) {
				// the outcome itself is recorded; a stale index entry is removed by the
				// next finish or reap, a stale stop request by the worker's next
				// reconcile
				log.warn("cleanup after run {} failed: {}", run.runId(), ex.toString());
			}
		}

	}

}
