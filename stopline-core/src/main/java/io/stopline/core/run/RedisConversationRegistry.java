package io.stopline.core.run;

import io.stopline.protocol.RunState;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;

import io.stopline.protocol.Json;
import io.stopline.protocol.StartRun;
import io.stopline.core.schema.ConversationIds;
import io.stopline.core.schema.Keys;
import io.stopline.core.schema.LuaScripts;
import io.stopline.core.schema.Topology;
import io.stopline.protocol.HistoryMessage;
import io.stopline.protocol.OnActive;
import io.stopline.protocol.RunEvent;
import org.jspecify.annotations.Nullable;

import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.Limit;
import org.springframework.data.redis.connection.stream.MapRecord;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.ZSetOperations;

/**
 * {@link ConversationRegistry} on Redis. The atomic steps are Lua scripts on the user's
 * slot; the worker index lives on the worker's slot and is written before a claim and
 * removed after a finish, so it always covers the records (the reaper may find an index
 * entry without a record, never a record without an entry). What reaches past the user's
 * slot is written by the {@link SlotWrites} of the {@link Topology}, chosen once.
 */
public final class RedisConversationRegistry implements ConversationRegistry {

	/** How long a stopped conversation answers a repeated stop with "already stopped". */
	static final long STOPPED_MARKER_SECONDS = 60;

	static final int TITLE_LENGTH = 60;

	private static final int JOB_PAGE = 1000;

	private final StringRedisTemplate redis;

	private final @Nullable RunEndListener stats;

	private final SlotWrites slots;

	private final int maxHistory;

	private final String publishCommand;

	public RedisConversationRegistry(StringRedisTemplate redis) {
		this(redis, null, Runnable::run, Topology.SINGLE_SLOT);
	}

	/**
	 * With {@code stats}, every run's end is counted once, by the finish that removed it.
	 */
	public RedisConversationRegistry(StringRedisTemplate redis, @Nullable RunEndListener stats) {
		this(redis, stats, Runnable::run, Topology.SINGLE_SLOT);
	}

	/**
	 * @param afterFinish runs what follows a write off the caller's path: the removal of
	 * a claimed or ended run's queued-runs entry and, on Redis Cluster, the cleanup that
	 * follows a finish in the worker's slot (its index entry, the settled stop requests;
	 * elsewhere the finish script does it)
	 * @param topology on Redis Cluster the worker's keys are in another slot than the
	 * user's, so one script cannot reach both (see {@link SlotWrites})
	 */
	public RedisConversationRegistry(StringRedisTemplate redis, @Nullable RunEndListener stats, Executor afterFinish,
			Topology topology) {
		this(redis, stats, afterFinish, topology, 0);
	}

	/**
	 * @param maxHistory the most messages a conversation keeps when one is added (its
	 * first and the newest); 0 keeps all (see {@link HistoryProperties})
	 */
	public RedisConversationRegistry(StringRedisTemplate redis, @Nullable RunEndListener stats, Executor afterFinish,
			Topology topology, int maxHistory) {
		this.redis = redis;
		this.stats = stats;
		this.slots = SlotWrites.of(topology, redis, afterFinish);
		this.maxHistory = maxHistory;
		this.publishCommand = topology.publishCommand();
	}

	@Override
	public Reservation reserve(RunRecord queued, HistoryMessage userMessage, int maxActiveRuns, WhenBusy whenBusy,
			@Nullable Enqueue enqueue) {
		String user = queued.userId();
		String conversation = queued.conversationId();
		String queuedEntry = SlotWrites.queuedEntry(queued);
		// KEYS[6]: the run id's stop tombstone, KEYS[7]: the conversation's waiting list
		List<String> keys = List.of(Keys.runs(user), Keys.messages(user, conversation), Keys.conversations(user),
				Keys.stopped(user, conversation), Keys.lastRuns(user),
				Keys.stopBefore(user, conversation, queued.runId()), Keys.waiting(user, conversation));
		String waitingEntry = whenBusy.mode() == OnActive.REJECT ? "" : waitingEntry(queued, userMessage, whenBusy);
		String existing = slots.reserve(keys, queuedEntry, queued.queuedAt().toEpochMilli(), enqueue, conversation,
				Json.write(StoredRun.of(queued)), Json.write(userMessage), millis(queued.queuedAt()),
				Integer.toString(maxActiveRuns), queuedEntry, Integer.toString(maxHistory), whenBusy.mode().wireName(),
				waitingEntry, Integer.toString(whenBusy.maxWaiting()));
		if (existing == null) {
			return new Reservation.Reserved(enqueue != null && slots.queuesJobs());
		}
		switch (existing.charAt(0)) {
			case '+' -> {
				return new Reservation.Waiting(read(existing.substring(1), user, conversation));
			}
			case '@' -> {
				return new Reservation.AlreadyWaiting(
						WaitingEntry.read(existing.substring(1)).toRecord(user, conversation));
			}
			case '%' -> {
				return new Reservation.QueueFull(Integer.parseInt(existing.substring(1)));
			}
			case '^' -> {
				return new Reservation.AlreadyReplaced(WaitingEntry.read(existing.substring(1)).run());
			}
			default -> {
				// one of the answers below
			}
		}
		if (existing.startsWith("#")) {
			return new Reservation.TooManyActive(Integer.parseInt(existing.substring(1)));
		}
		if (existing.startsWith("!")) {
			return new Reservation.StoppedBefore(existing.substring(1));
		}
		if (existing.equals("=")) {
			return new Reservation.Ended();
		}
		return new Reservation.Busy(read(existing, user, conversation));
	}

	/**
	 * The entry that starts the run when the active one ends: its record, user message
	 * and job, and the events announcing it.
	 */
	private String waitingEntry(RunRecord queued, HistoryMessage userMessage, WhenBusy whenBusy) {
		String user = queued.userId();
		String conversation = queued.conversationId();
		boolean inScript = slots.startsJobsInScript();
		return Json.write(new WaitingEntry(queued.runId(), whenBusy.mode().wireName(), "",
				Json.write(StoredRun.of(queued)), Json.write(userMessage), whenBusy.job(), inScript ? Keys.JOBS : "",
				inScript ? Keys.QUEUED : "", SlotWrites.queuedEntry(queued), Integer.toString(maxHistory),
				Keys.conversationEvents(user, conversation), publishCommand,
				Json.write(
						new RunEvent.MessageAdded(queued.runId(), conversation, userMessage, userMessage.createdAt())),
				Json.write(new RunEvent.RunRolledBack("", conversation, queued.runId(), queued.queuedAt()))));
	}

	@Override
	public boolean isWaiting(String userId, String conversationId, String runId) {
		List<String> waiting = redis.opsForList().range(Keys.waiting(userId, conversationId), 0, -1);
		return waiting != null && waiting.stream().anyMatch(raw -> WaitingEntry.read(raw).run().equals(runId));
	}

	/**
	 * The record of a waiting-list entry (as answered by a stop that removed it from the
	 * list).
	 */
	public static RunRecord readWaiting(String entry, String userId, String conversationId) {
		return WaitingEntry.read(entry).toRecord(userId, conversationId);
	}

	@Override
	public Optional<Claim> take(RunRecord queued, String workerId, Instant at, @Nullable Announcement announcement,
			@Nullable String jobEntry) {
		List<?> claimed = slots.claim(queued, workerId, millis(at), announcement, jobEntry);
		if (claimed == null || claimed.isEmpty()) {
			return Optional.empty();
		}
		RunRecord run = read((String) claimed.get(0), queued.userId(), queued.conversationId());
		return Optional.of(new Claim(run, claimed.size() > 1 && Long.valueOf(1).equals(claimed.get(1))));
	}

	@Override
	public boolean acknowledgesJobsInClaim() {
		return slots.acknowledgesJobs();
	}

	@Override
	public boolean finish(RunRecord run, RunOutcome outcome) {
		return finish(run, outcome, "", null, List.of(), null);
	}

	@Override
	public boolean finish(RunRecord run, RunOutcome outcome, @Nullable Announcement announcement,
			Collection<String> settledStops, RunReplays.@Nullable Write replay) {
		return finish(run, outcome, "", announcement, settledStops, replay);
	}

	@Override
	public boolean finishQueued(RunRecord run, RunOutcome outcome, @Nullable Announcement announcement) {
		boolean ended = finish(run, outcome, RunState.QUEUED.wireName(), announcement, List.of(), null);
		if (ended) {
			slots.unqueueLater(run);
		}
		return ended;
	}

	@Override
	public List<RunRecord> queuedWithoutJob(Instant queuedBefore, int limit) {
		Set<String> old = redis.opsForZSet()
			.rangeByScore(Keys.QUEUED, Double.NEGATIVE_INFINITY, queuedBefore.toEpochMilli(), 0, limit);
		if (old == null || old.isEmpty()) {
			return List.of();
		}
		List<String> raws = List.copyOf(old);
		List<WorkerRun> entries = new ArrayList<>(raws.size());
		for (String raw : raws) {
			String[] entry = Json.read(raw, String[].class);
			entries.add(new WorkerRun(entry[2], entry[0], entry[1]));
		}
		// one pipelined read for the page, one ZREM for its stale entries: a sweep that
		// meets many stale entries must not cost a round trip each
		List<Optional<RunRecord>> records = findAll(entries);
		List<RunRecord> waiting = new ArrayList<>();
		List<String> stale = new ArrayList<>();
		for (int i = 0; i < raws.size(); i++) {
			String runId = entries.get(i).runId();
			Optional<RunRecord> record = records.get(i).filter(run -> run.runId().equals(runId) && run.isQueued());
			if (record.isPresent()) {
				waiting.add(record.get());
			}
			else {
				// claimed or ended, and its removal was lost: the entry is stale
				stale.add(raws.get(i));
			}
		}
		if (!stale.isEmpty()) {
			redis.opsForZSet().remove(Keys.QUEUED, stale.toArray());
		}
		if (waiting.isEmpty()) {
			return waiting;
		}
		Set<String> jobs = queuedJobRunIds();
		return waiting.stream().filter(run -> !jobs.contains(run.runId())).toList();
	}

	/**
	 * The run ids of the jobs in {@code stopline:jobs} (waiting or read but not yet
	 * taken), a page at a time. Only read when a queued run is older than the sweep's
	 * bound, which is rare.
	 */
	private Set<String> queuedJobRunIds() {
		Set<String> runIds = new java.util.HashSet<>();
		String after = "-";
		while (true) {
			List<MapRecord<String, Object, Object>> page = redis.opsForStream()
				.range(Keys.JOBS, Range.of(after.equals("-") ? Range.Bound.unbounded() : Range.Bound.exclusive(after),
						Range.Bound.unbounded()), Limit.limit().count(JOB_PAGE));
			if (page == null || page.isEmpty()) {
				return runIds;
			}
			for (MapRecord<String, Object, Object> job : page) {
				Object json = job.getValue().get("job");
				if (json != null) {
					runIds.add(Json.read((String) json, StartRun.class).runId());
				}
				after = job.getId().getValue();
			}
			if (page.size() < JOB_PAGE) {
				return runIds;
			}
		}
	}

	private boolean finish(RunRecord run, RunOutcome outcome, String requiredState, @Nullable Announcement announcement,
			Collection<String> settledStops, RunReplays.@Nullable Write replay) {
		String user = run.userId();
		String conversation = run.conversationId();
		List<String> args = new ArrayList<>();
		args.add(conversation);
		args.add(run.runId());
		args.add(requiredState);
		args.add(millis(outcome.at()));
		args.add(outcome.isStopped() ? Long.toString(STOPPED_MARKER_SECONDS) : "0");
		List<HistoryMessage> messages = outcome.messages(run.runId());
		args.add(Integer.toString(messages.size()));
		messages.forEach(message -> args.add(Json.write(message)));
		args.add(Integer.toString(settledStops.size()));
		args.addAll(settledStops);
		args.add(replay == null ? "" : replay.json());
		args.add(replay == null ? "0" : Long.toString(replay.ttl().toMillis()));
		SlotWrites.addPublications(args, announcement);
		List<String> keys = new ArrayList<>(
				List.of(Keys.runs(user), Keys.messages(user, conversation), Keys.conversations(user),
						Keys.stopped(user, conversation), Keys.lastRuns(user), Keys.waiting(user, conversation)));
		if (replay != null) {
			keys.add(replay.key());
		}
		boolean ended = slots.finish(run, keys, args);
		if (ended && stats != null) {
			// counted in memory: no round trip
			stats.runEnded(run, outcome);
		}
		slots.afterFinish(run, settledStops);
		return ended;
	}

	@Override
	public Restore restore(RunRecord running, @Nullable HistoryMessage userMessage) {
		String user = running.userId();
		String conversation = running.conversationId();
		if (running.workerId() != null) {
			redis.opsForHash().put(Keys.workerRuns(running.workerId()), running.runId(), WorkerRunJson.of(running));
		}
		String answer = redis.execute(LuaScripts.RESTORE, List.of(Keys.runs(user), Keys.messages(user, conversation),
				Keys.conversations(user), Keys.lastRuns(user)), restoreArgs(running, userMessage).toArray());
		Restore restore = Restore.valueOf(String.valueOf(answer).toUpperCase(java.util.Locale.ROOT));
		if ((restore == Restore.SUPERSEDED || restore == Restore.ENDED) && running.workerId() != null) {
			redis.opsForHash().delete(Keys.workerRuns(running.workerId()), running.runId());
		}
		return restore;
	}

	@Override
	public Restore restoreEnded(RunRecord run, @Nullable HistoryMessage userMessage, RunOutcome outcome) {
		String user = run.userId();
		String conversation = run.conversationId();
		List<String> args = restoreArgs(run, userMessage);
		List<HistoryMessage> messages = outcome.messages(run.runId());
		args.add(Integer.toString(messages.size()));
		args.add(outcome.isStopped() ? Long.toString(STOPPED_MARKER_SECONDS) : "0");
		messages.forEach(message -> args.add(Json.write(message)));
		String answer = redis.execute(
				LuaScripts.RESTORE, List.of(Keys.runs(user), Keys.messages(user, conversation),
						Keys.conversations(user), Keys.lastRuns(user), Keys.stopped(user, conversation)),
				args.toArray());
		return switch (String.valueOf(answer)) {
			case "rewritten" -> Restore.RESTORED;
			// the record is there, queued (its claim was lost): restored (indexed first,
			// so the index covers it should the finish fail) and finished as any run is,
			// since its finish may start a waiting run
			case "queued" -> restore(run, userMessage) == Restore.RESTORED && finish(run, outcome) ? Restore.RESTORED
					: Restore.SUPERSEDED;
			default -> Restore.valueOf(String.valueOf(answer).toUpperCase(java.util.Locale.ROOT));
		};
	}

	private static List<String> restoreArgs(RunRecord running, @Nullable HistoryMessage userMessage) {
		return new ArrayList<>(List.of(running.conversationId(), running.runId(), Json.write(StoredRun.of(running)),
				millis(Instant.now()), userMessage == null ? "" : Json.write(userMessage)));
	}

	@Override
	public boolean changeState(RunRecord run, RunState from, RunState to) {
		Long changed = redis.execute(LuaScripts.SET_STATE, List.of(Keys.runs(run.userId())), run.conversationId(),
				run.runId(), from.wireName(), to.wireName());
		return changed != null && changed == 1L;
	}

	@Override
	public StopTarget stopTarget(String userId, String conversationId) {
		String found = redis.execute(LuaScripts.STOP_TARGET,
				List.of(Keys.runs(userId), Keys.stopped(userId, conversationId)), conversationId);
		if (found == null) {
			return new StopTarget.NotFound();
		}
		String body = found.substring(1);
		return found.charAt(0) == 'A' ? new StopTarget.Active(read(body, userId, conversationId))
				: new StopTarget.RecentlyStopped(body);
	}

	private static final int FIND_CHUNK = 256;

	@Override
	public Optional<RunRecord> find(String userId, String conversationId) {
		Object json = redis.opsForHash().get(Keys.runs(userId), ConversationIds.require(conversationId));
		return Optional.ofNullable(json).map(value -> read((String) value, userId, conversationId));
	}

	/**
	 * {@code HGET} of each record, pipelined in chunks (a long pipeline would hold
	 * Redis).
	 */
	@Override
	public List<Optional<RunRecord>> findAll(List<WorkerRun> runs) {
		List<Optional<RunRecord>> found = new ArrayList<>(runs.size());
		for (int from = 0; from < runs.size(); from += FIND_CHUNK) {
			List<WorkerRun> chunk = runs.subList(from, Math.min(runs.size(), from + FIND_CHUNK));
			List<Object> values = redis.executePipelined((RedisCallback<Object>) connection -> {
				chunk.forEach(run -> connection.hashCommands()
					.hGet(Keys.runs(run.userId()).getBytes(StandardCharsets.UTF_8),
							ConversationIds.require(run.conversationId()).getBytes(StandardCharsets.UTF_8)));
				return null;
			});
			for (int i = 0; i < chunk.size(); i++) {
				WorkerRun run = chunk.get(i);
				Object json = i < values.size() ? values.get(i) : null;
				found.add(json instanceof String value ? Optional.of(read(value, run.userId(), run.conversationId()))
						: Optional.empty());
			}
		}
		return found;
	}

	@Override
	public List<Boolean> ended(List<WorkerRun> runs) {
		List<Boolean> ended = new ArrayList<>(runs.size());
		for (int from = 0; from < runs.size(); from += FIND_CHUNK) {
			List<WorkerRun> chunk = runs.subList(from, Math.min(runs.size(), from + FIND_CHUNK));
			List<Object> latest = redis.executePipelined((RedisCallback<Object>) connection -> {
				chunk.forEach(run -> connection.hashCommands()
					.hGet(Keys.lastRuns(run.userId()).getBytes(StandardCharsets.UTF_8),
							ConversationIds.require(run.conversationId()).getBytes(StandardCharsets.UTF_8)));
				return null;
			});
			for (int i = 0; i < chunk.size(); i++) {
				ended.add(i < latest.size() && ("ended:" + chunk.get(i).runId()).equals(latest.get(i)));
			}
		}
		return ended;
	}

	@Override
	public List<RunRecord> active(String userId) {
		Map<Object, Object> runs = redis.opsForHash().entries(Keys.runs(userId));
		List<RunRecord> records = new ArrayList<>(runs.size());
		runs.forEach((conversation, json) -> records.add(read((String) json, userId, (String) conversation)));
		return records;
	}

	@Override
	public List<WorkerRun> runsOf(String workerId) {
		Map<Object, Object> index = redis.opsForHash().entries(Keys.workerRuns(workerId));
		List<WorkerRun> runs = new ArrayList<>(index.size());
		index.forEach((runId, json) -> {
			WorkerRunJson entry = WorkerRunJson.read((String) json);
			runs.add(new WorkerRun((String) runId, entry.userId(), entry.conversationId()));
		});
		return runs;
	}

	@Override
	public void unindex(String workerId, String runId) {
		redis.opsForHash().delete(Keys.workerRuns(workerId), runId);
	}

	@Override
	public List<HistoryMessage> history(String userId, String conversationId) {
		List<String> raw = redis.opsForList().range(Keys.messages(userId, conversationId), 0, -1);
		return raw == null ? List.of() : raw.stream().map(json -> Json.read(json, HistoryMessage.class)).toList();
	}

	@Override
	public List<ConversationSummary> conversations(String userId, int limit) {
		Set<ZSetOperations.TypedTuple<String>> recent = redis.opsForZSet()
			.reverseRangeWithScores(Keys.conversations(userId), 0, limit - 1);
		List<ConversationSummary> summaries = new ArrayList<>();
		if (recent == null) {
			return summaries;
		}
		Map<Object, Object> active = redis.opsForHash().entries(Keys.runs(userId));
		List<ZSetOperations.TypedTuple<String>> entries = new ArrayList<>(recent);
		// every conversation's first message in one round trip (same slot: the user's
		// tag)
		List<Object> firsts = redis.executePipelined((RedisCallback<Object>) connection -> {
			entries.forEach(entry -> connection.listCommands()
				.lIndex(Keys.messages(userId, entry.getValue()).getBytes(StandardCharsets.UTF_8), 0));
			return null;
		});
		for (int i = 0; i < entries.size(); i++) {
			ZSetOperations.TypedTuple<String> entry = entries.get(i);
			String conversation = entry.getValue();
			Object first = i < firsts.size() ? firsts.get(i) : null;
			String title = first instanceof String json ? Json.read(json, HistoryMessage.class).content() : "";
			summaries.add(new ConversationSummary(conversation,
					title.length() > TITLE_LENGTH ? title.substring(0, TITLE_LENGTH - 1) + "…" : title,
					Instant.ofEpochMilli(entry.getScore() == null ? 0 : entry.getScore().longValue()),
					active.containsKey(conversation)));
		}
		return summaries;
	}

	public static RunRecord read(String json, String userId, String conversationId) {
		return Json.read(json, StoredRun.class).toRecord(userId, conversationId);
	}

	private static String millis(@Nullable Instant at) {
		return Long.toString((at != null ? at : Instant.now()).toEpochMilli());
	}

	/** The value of a worker index entry, a JSON array: {@code ["alice","c-42"]}. */
	record WorkerRunJson(String userId, String conversationId) {

		static String of(RunRecord run) {
			return Json.write(List.of(run.userId(), run.conversationId()));
		}

		static WorkerRunJson read(String json) {
			String[] pair = Json.read(json, String[].class);
			return new WorkerRunJson(pair[0], pair[1]);
		}

	}

}
