package io.stopline.starter.task;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import io.stopline.protocol.RunEvent;
import io.stopline.protocol.StartRun;
import io.stopline.core.threads.ControlHandOff;
import io.stopline.core.threads.ControlThreads;
import io.stopline.core.threads.SchedulerLag;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.protocol.HistoryMessage;
import io.stopline.core.run.RunOutcome;
import io.stopline.core.events.RunEvents;
import io.stopline.core.run.RunRecord;
import io.stopline.core.ops.StopAudit;
import io.stopline.core.stop.StopRequests;
import io.stopline.protocol.StopReason;
import io.stopline.protocol.StopReceipt;
import io.stopline.core.run.RunReplays;
import io.stopline.starter.WorkerProperties;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Executes runs on virtual threads: claim the run in Redis, drive its {@link Generation}
 * (a model, a subscribed {@code Flux}, anything that yields tokens) and stream its tokens
 * to the gateway, and record the outcome however the run ends. A stop interrupts the
 * generating thread; the outcome is then {@code stopped} with the partial answer. The
 * worker's agents and the starter's {@code Stopline.run} both run here: one engine.
 */
public class TaskRunner {

	private static final Logger log = LoggerFactory.getLogger(TaskRunner.class);

	private static final Duration PERSIST_BOUND = Duration.ofSeconds(30);

	private static final Duration STALE_YIELD_BOUND = Duration.ofSeconds(5);

	private final ConversationRegistry registry;

	private final StopRequests stopRequests;

	private final LocalTaskRegistry tasks;

	private final RunEvents events;

	private final ExecutorService executor;

	private final String workerId;

	private final RunMetrics metrics;

	private final StopAudit audit;

	private final RunReplays replays;

	private final RecentOutcomes outcomes;

	/**
	 * Run timeouts. Its own executor, not Spring's TaskScheduler: that one starts in the
	 * last lifecycle phase, after this worker already takes runs. The action only flips
	 * the task's state, so one thread serves all.
	 */
	private final ScheduledThreadPoolExecutor timeouts = new ScheduledThreadPoolExecutor(1,
			Thread.ofPlatform().daemon().name("run-timers").factory());

	private final TokenFrameProperties frames;

	/**
	 * Where stopped runs finish (outcome script, confirmation) while the virtual threads'
	 * scheduler is busy: the finish's wake-up after its script's reply would wait there
	 * behind every streaming run's token wake-ups. An interrupted run thread leaves the
	 * finish to go on.
	 */
	private final ControlHandOff control = new ControlHandOff("stop-finish-", 16,
			ControlHandOff.OnInterrupt.LET_FINISH);

	/**
	 * Where runs are claimed while the virtual threads' scheduler is busy: a claim's two
	 * wake-ups (the run's thread start, the script's reply) would each wait there behind
	 * every streaming run's token wake-ups. No queue: beyond these threads a run's own
	 * virtual thread claims it, as when the scheduler is idle.
	 */
	private final ThreadPoolExecutor starts = new ThreadPoolExecutor(0, 16, 30, TimeUnit.SECONDS,
			new SynchronousQueue<>(), ControlThreads.factory("run-start-"));

	/** Whether runs are claimed on the start threads: while the scheduler is busy. */
	private BooleanSupplier claimOffScheduler = SchedulerLag.shared()::busy;

	/** Every run's frames, one write per gateway per batch interval. */
	private final FrameLanes lanes;

	/** How long the end of a run waits for its last frames to be taken by Redis. */
	private static final Duration DRAIN_BOUND = Duration.ofSeconds(2);

	private final Duration maxRunDuration;

	public TaskRunner(ConversationRegistry registry, StopRequests stopRequests, LocalTaskRegistry tasks,
			RunEvents events, ExecutorService runExecutor, RunMetrics metrics, StopAudit audit,
			WorkerProperties properties, TokenFrameProperties frames, RunReplays replays, RecentOutcomes outcomes) {
		this.outcomes = outcomes;
		this.frames = frames;
		this.lanes = new FrameLanes(events::publishFrames, timeouts, frames.batchInterval());
		this.replays = replays;
		this.timeouts.setRemoveOnCancelPolicy(true);
		this.maxRunDuration = properties.maxRunDuration();
		this.metrics = metrics;
		this.audit = audit;
		this.registry = registry;
		this.stopRequests = stopRequests;
		this.tasks = tasks;
		this.events = events;
		this.executor = runExecutor;
		this.workerId = properties.id();
	}

	/**
	 * Starts the job, generating with {@code generation}. {@code onTaken} runs once the
	 * run is claimed or known not to run (the job can then be acknowledged);
	 * {@code onEnd} runs once whatever happens (it frees the worker's slot), after the
	 * outcome is recorded.
	 */
	public void start(StartRun job, Generation generation, Runnable onTaken, Runnable onEnd) {
		start(job, generation, JobTaken.of(onTaken), onEnd);
	}

	/**
	 * As {@link #start(StartRun, Generation, Runnable, Runnable)}; the claim acknowledges
	 * the job itself where it can ({@link JobTaken}).
	 */
	public void start(StartRun job, Generation generation, JobTaken onTaken, Runnable onEnd) {
		if (claimOffScheduler.getAsBoolean()) {
			try {
				starts.execute(() -> inRunContext(job, () -> claimThenGenerate(job, generation, onTaken, onEnd)));
				return;
			}
			catch (RejectedExecutionException ex) {
				// every start thread busy: the run's own thread claims it
			}
		}
		executor.execute(() -> inRunContext(job, () -> thenEnd(job, () -> {
			Claimed claimed = claim(job, generation, onTaken);
			if (claimed != null) {
				generate(claimed);
			}
		}, onEnd)));
	}

	/** Runs a run's {@code work}, then {@code onEnd} however it ended. */
	private static void thenEnd(StartRun job, Runnable work, Runnable onEnd) {
		try {
			work.run();
		}
		catch (RuntimeException ex) {
			unexpected(job, ex);
		}
		finally {
			onEnd.run();
		}
	}

	/** Tests choose where runs are claimed. */
	void claimOffScheduler(BooleanSupplier when) {
		this.claimOffScheduler = when;
	}

	/**
	 * While the virtual threads' scheduler is busy: the claim on a start thread, whose
	 * wake-up on the claim's reply goes to the operating system's scheduler instead of
	 * waiting behind every stream's, then the generation on the run's virtual thread.
	 */
	private void claimThenGenerate(StartRun job, Generation generation, JobTaken onTaken, Runnable onEnd) {
		// onEnd once on every path: by the generation once handed over, else here
		boolean handedOver = false;
		Claimed claimed = null;
		try {
			claimed = claim(job, generation, onTaken);
			if (claimed == null) {
				return;
			}
			Claimed run = claimed;
			Runnable generating = () -> inRunContext(job, () -> thenEnd(job, () -> generate(run), onEnd));
			try {
				executor.execute(generating);
			}
			catch (RejectedExecutionException ex) {
				// the run executor is closing (the graceful shutdown still waits for this
				// registered run and stops it after its grace): it runs here
				handedOver = true;
				generating.run();
				return;
			}
			handedOver = true;
		}
		catch (RuntimeException ex) {
			unexpected(job, ex);
		}
		finally {
			if (!handedOver) {
				if (claimed != null) {
					// claimed but never generating: the ownership check settles its
					// record
					tasks.unregister(claimed.task());
				}
				onEnd.run();
			}
		}
	}

	private static void unexpected(StartRun job, RuntimeException ex) {
		log.error("run {} of conversation {} failed unexpectedly", job.runId(), job.conversationId(), ex);
	}

	private void inRunContext(StartRun job, Runnable work) {
		MDC.put("conversation_id", job.conversationId());
		MDC.put("run_id", job.runId());
		MDC.put("worker_id", workerId);
		try {
			work.run();
		}
		finally {
			MDC.clear();
		}
	}

	/** A run claimed by this worker and registered here, about to generate. */
	private record Claimed(RunningTask task, RunRecord record, Instant started, boolean announced) {
	}

	/**
	 * Registers the run here and claims it in Redis; null when it does not run here
	 * (stopped or replaced before it started, or a duplicate job), and then it is no
	 * longer registered.
	 */
	private @Nullable Claimed claim(StartRun job, Generation generation, JobTaken onTaken) {
		RunningTask task = new RunningTask(job, generation);
		if (!tasks.register(task) && !registerInPlaceOfStale(task, onTaken)) {
			return null;
		}
		boolean claimedHere = false;
		try {
			Instant started = Instant.now();
			metrics.start(RunMetrics.StartStage.TAKEN, job.requestedAt(), started);
			// the start is announced by the claim's own script where it can reach the
			// channels: one round trip for the claim and the three announcements
			ConversationRegistry.Announcement announcement = events.announcement(job.userId(), List.of(job.replyTo()),
					new RunEvent.RunStarted(job.runId(), job.conversationId(), workerId, started),
					List.of(new RunEvent.MessageAdded(job.runId(), job.conversationId(),
							HistoryMessage.streaming(job.runId(), started), started)));
			String entry = onTaken.entryId();
			Optional<ConversationRegistry.Claim> claimed = registry.take(queuedRecord(job), workerId, started,
					announcement, entry);
			onTaken.taken(entry != null && registry.acknowledgesJobsInClaim());
			if (claimed.isEmpty()) {
				log.debug("run {} was stopped or replaced before it started", job.runId());
				return null;
			}
			metrics.start(RunMetrics.StartStage.CLAIMED, job.requestedAt(), Instant.now());
			task.claimed(claimed.get().run());
			// read by the claim's own step, never before it: a socket that marks the
			// conversation watched later finds the run claimed and asks for a snapshot
			// (which turns the tokens on); read before the claim, a socket could find the
			// run still queued, ask for nothing, and never get its tokens
			task.watched(claimed.get().watched());
			metrics.started();
			claimedHere = true;
			return new Claimed(task, claimed.get().run(), started, announcement != null);
		}
		finally {
			if (!claimedHere) {
				tasks.unregister(task);
			}
		}
	}

	private void generate(Claimed claimed) {
		try {
			execute(claimed.task(), claimed.record(), claimed.started(), claimed.announced());
		}
		finally {
			// the finish paths unregister once the outcome is recorded (a task recording
			// its outcome already gives way to the conversation's next run); this covers
			// the exceptional ones
			tasks.unregister(claimed.task());
		}
	}

	/**
	 * The conversation already has a task here. The same run (its job delivered twice):
	 * skipped, the job acknowledged. Another run: the local one is stale, since Redis
	 * reserves a new run only once the old one's record is gone (reaped while this worker
	 * was frozen or cut off, or lost with Redis's data), so it is stopped ({@code lost})
	 * and the new run takes its place as soon as it is only recording its outcome. Should
	 * that not happen within {@link #STALE_YIELD_BOUND}, the job is left unacknowledged
	 * and taken again after {@code orphaned-job-idle}: never dropped with its request
	 * left hanging.
	 */
	private boolean registerInPlaceOfStale(RunningTask task, JobTaken onTaken) {
		Optional<RunningTask> existing = tasks.find(task.userId(), task.conversationId());
		if (existing.isPresent() && existing.get().runId().equals(task.runId())) {
			log.warn("run {} of conversation {} already runs here; duplicate job skipped", task.runId(),
					task.conversationId());
			onTaken.taken(false);
			return false;
		}
		existing.ifPresent(stale -> stale.requestStop(StopReason.LOST));
		long deadline = System.nanoTime() + STALE_YIELD_BOUND.toNanos();
		while (System.nanoTime() < deadline) {
			if (tasks.register(task)) {
				log.warn("run {} of conversation {} replaced a stale run of this worker", task.runId(),
						task.conversationId());
				return true;
			}
			LockSupport.parkNanos(20_000_000);
		}
		log.warn("conversation {} still has a stale run here; run {} is left queued for another try",
				task.conversationId(), task.runId());
		return false;
	}

	private void execute(RunningTask task, RunRecord record, Instant started, boolean announced) {
		StartRun job = task.job();
		TokenOutbox outbox = new TokenOutbox(job.runId(), job.conversationId(),
				(frame, urgent) -> publishFrame(task, frame, urgent), timeouts, frames.linger(), frames.maxChars(),
				task::noteLostToken);
		task.outbox(outbox);
		// on Redis Cluster, not awaited: the start is announced while the model starts,
		// and the first frame leaves only after it, so watchers see the start before any
		// token; only the live view misses a start that fails to leave, never the run or
		// its history
		if (!announced) {
			outbox.after(events
				.publishAsync(job.userId(), job.replyTo(),
						new RunEvent.RunStarted(job.runId(), job.conversationId(), workerId, started),
						new RunEvent.MessageAdded(job.runId(), job.conversationId(),
								HistoryMessage.streaming(job.runId(), started), started))
				.whenComplete((ignored, error) -> {
					if (error != null) {
						task.noteLostToken(error);
					}
				}));
		}
		RuntimeException failure = null;
		ScheduledFuture<?> timeout = timeouts.schedule(() -> task.requestStop(StopReason.TIMEOUT),
				maxDuration(job).toMillis(), TimeUnit.MILLISECONDS);
		if (task.beginGeneration()) {
			try {
				task.generation().generate(new RunScope(task, events, token -> emit(task, token)));
			}
			catch (InterruptedException ex) {
				// the stop path: endGeneration below sees STOPPING
			}
			catch (RuntimeException ex) {
				failure = ex;
			}
		}
		timeout.cancel(false);
		Stopped stopped = task.endGeneration();
		if (stopped != null) {
			// off the virtual threads' queue: the stop's confirmation waits for this
			control.run(() -> finishStopped(task, record, stopped));
		}
		else if (failure != null) {
			finishFailed(task, record, failure);
		}
		else {
			finishCompleted(task, record);
		}
	}

	/**
	 * Records where the frame ends (for resumed streams), then hands it to its gateway's
	 * lane.
	 */
	private java.util.concurrent.CompletionStage<?> publishFrame(RunningTask task, RunEvent.TokenGenerated frame,
			boolean urgent) {
		task.offsets().add(frame.count(), frame.text().length());
		return lanes.submit(task.job().replyTo(), new RunEvents.FrameOut(task.userId(), frame, task.isWatched()),
				urgent);
	}

	private void emit(RunningTask task, String token) throws InterruptedException {
		if (!task.isRunning()) {
			// produced by the model after the stop reached this worker: never kept
			task.tokenAfterStop();
		}
		if (Thread.currentThread().isInterrupted()) {
			throw new InterruptedException();
		}
		task.emit(() -> publish(task, token));
	}

	/** Buffers the token in the run's outbox, which frames it; never waits for Redis. */
	private void publish(RunningTask task, String token) {
		int index = task.append(token);
		if (index == 0) {
			metrics.start(RunMetrics.StartStage.FIRST_TOKEN, task.job().requestedAt(), Instant.now());
		}
		task.outbox().append(token, index);
	}

	/**
	 * A stop won: persist the partial answer the client saw (the confirmation leaves with
	 * the write), then announce it to whoever asked meanwhile, then count and audit.
	 */
	private void finishStopped(RunningTask task, RunRecord record, Stopped stopped) {
		task.finishing();
		// the tokens still waiting for their frame were seen by nobody: the answer kept
		// is exactly the one streamed
		TokenOutbox.Sent sent = task.generation().keepsEveryToken() ? drain(task)
				: task.outbox().discardPending(DRAIN_BOUND);
		// and no more than the stopping client displayed, when it said
		int kept = stopped.seenTokens() == null ? sent.tokens() : Math.min(sent.tokens(), stopped.seenTokens());
		String content = task.content().substring(0, kept == sent.tokens() ? sent.chars() : task.charsOf(kept));
		Instant now = Instant.now();
		RunOutcome outcome = RunOutcome.stopped(content, stopped.reason(), now)
			.withTools(task.generation().toolHistory(task.runId(), now));
		StopReceipt receipt = new StopReceipt(stopped.requestedAt(), stopped.deliveredAt(), task.upstreamClosedAt(),
				now);
		RunEvent.RunStopped event = new RunEvent.RunStopped(task.runId(), task.conversationId(), stopped.reason(),
				content, kept, now, receipt, task.generation().toolCalls());
		// the confirmation (and the messages it left, for the watchers) goes out with the
		// outcome's write, in one round trip, to the gateways known now
		List<String> told = withOwnGateway(task, stopped.replyTo());
		ConversationRegistry.Announcement announcement = events.announcement(task.userId(), told, event,
				messagesAdded(task, outcome));
		Recorded recorded = persist(record, outcome, announcement, stopped.recordedStops(), replay(task, event, kept));
		Stopped.Late late = task.settle(stopped, event);
		tasks.unregister(task);
		Instant unregistered = Instant.now();
		metrics.ended("stopped", stopped.reason().wireName());
		metrics.durationBeforeStop(Duration.between(record.since(), now));
		metrics.propagation(stopped.requestedAt(), stopped.deliveredAt(), stopped.cancelledAt(), unregistered);
		metrics.tokensAfterStop(task.tokensAfterStop());
		// a finish that did not end the run announces nothing: the run was ended by
		// someone else (who told its client), or its record is left for the ownership
		// check to settle and announce
		if (recorded == Recorded.ENDED) {
			announceStopped(task, event, outcome, announcement == null ? told : List.of(), late);
		}
		clearLate(late.recordedStops());
		log.info("run {} of conversation {} stopped ({}) after {} tokens, {} kept", task.runId(), task.conversationId(),
				stopped.reason(), sent.tokens(), kept);
		if (stopped.reason().bySystem() && recorded != Recorded.FENCED) {
			// stops the worker decided itself are audited here; gateways audit the ones
			// users ask for
			audit.record(new StopAudit.Entry("system", task.userId(), task.conversationId(), task.runId(),
					stopped.reason().wireName(), "stopped",
					Duration.between(stopped.requestedAt(), unregistered).toNanos() / 1000, now, kept, receipt));
		}
	}

	/** Sends the pending frames too: every token emitted was read. */
	private static TokenOutbox.Sent drain(RunningTask task) {
		task.outbox().drain(DRAIN_BOUND);
		return new TokenOutbox.Sent(task.tokens(), task.content().length());
	}

	/**
	 * Tells the gateways the outcome's write did not: all of them when it announced
	 * nothing ({@code unannounced}, on Redis Cluster), and those that asked during the
	 * write; then the watchers, what the run left.
	 */
	private void announceStopped(RunningTask task, RunEvent.RunStopped event, RunOutcome outcome,
			List<String> unannounced, Stopped.Late late) {
		if (!unannounced.isEmpty()) {
			List<String> notify = new ArrayList<>(unannounced);
			late.replyTo().stream().filter(gateway -> !notify.contains(gateway)).forEach(notify::add);
			events.publish(task.userId(), notify, event);
			announceMessages(task, outcome);
			return;
		}
		List<String> lateOnly = late.replyTo()
			.stream()
			.filter(gateway -> !gateway.equals(task.job().replyTo()))
			.toList();
		if (!lateOnly.isEmpty()) {
			events.publish(task.userId(), lateOnly, event, false);
		}
	}

	/** The chat's own gateway first, then the ones that asked for the stop. */
	private static List<String> withOwnGateway(RunningTask task, List<String> replyTo) {
		Set<String> gateways = new LinkedHashSet<>();
		gateways.add(task.job().replyTo());
		gateways.addAll(replyTo);
		return List.copyOf(gateways);
	}

	private void finishCompleted(RunningTask task, RunRecord record) {
		task.finishing();
		// the last frames before the end, so no token follows run_completed
		task.outbox().drain(DRAIN_BOUND);
		Instant now = Instant.now();
		RunOutcome outcome = RunOutcome.complete(task.content(), now)
			.withTools(task.generation().toolHistory(task.runId(), now));
		RunEvent.RunCompleted completed = new RunEvent.RunCompleted(task.runId(), task.conversationId(), task.content(),
				task.tokens(), now);
		finishEnded(task, record, outcome, completed);
		metrics.ended("completed", null);
	}

	/**
	 * Records a completed or failed run's outcome with its replay, its terminal event and
	 * the messages it left for the watchers, in one round trip (single Redis and
	 * Sentinel; on Redis Cluster the events follow it).
	 */
	private void finishEnded(RunningTask task, RunRecord record, RunOutcome outcome, RunEvent terminal) {
		List<String> settled = task.recordedStops();
		ConversationRegistry.Announcement announcement = events.announcement(task.userId(),
				List.of(task.job().replyTo()), terminal, messagesAdded(task, outcome));
		Recorded recorded = persist(record, outcome, announcement, settled, replay(task, terminal, task.tokens()));
		clearLate(task.settle().stream().filter(raw -> !settled.contains(raw)).toList());
		tasks.unregister(task);
		if (recorded == Recorded.ENDED && announcement == null) {
			events.publish(task.userId(), task.job().replyTo(), terminal);
			announceMessages(task, outcome);
		}
	}

	private void finishFailed(RunningTask task, RunRecord record, RuntimeException failure) {
		task.finishing();
		task.outbox().drain(DRAIN_BOUND);
		Instant now = Instant.now();
		log.warn("run {} of conversation {} failed: {}", task.runId(), task.conversationId(), failure.toString());
		// a generation failure says what went wrong upstream in words fit for the user;
		// anything else stays in the log
		String error = failure instanceof GenerationFailure described ? described.getMessage()
				: "The model failed to answer.";
		RunOutcome outcome = RunOutcome.failed(task.content(), error, now)
			.withTools(task.generation().toolHistory(task.runId(), now));
		finishEnded(task, record, outcome,
				new RunEvent.RunFailed(task.runId(), task.conversationId(), error, task.content(), now));
		metrics.ended("failed", null);
	}

	/**
	 * Tells the conversation's watchers what the run left in the history (after the
	 * terminal event, so the stop confirmation does not wait for it).
	 */
	private void announceMessages(RunningTask task, RunOutcome outcome) {
		try {
			messagesAdded(task, outcome).forEach(added -> events.toConversation(task.userId(), added));
		}
		catch (RuntimeException ex) {
			log.warn("could not announce the messages of run {}: {}", task.runId(), ex.toString());
		}
	}

	/**
	 * What a resumed chat stream of the ended run needs ({@link RunReplays}), kept for
	 * the resume grace: written by the outcome's script, before the terminal event
	 * leaves.
	 */
	private RunReplays.@Nullable Write replay(RunningTask task, RunEvent terminal, int tokens) {
		try {
			return replays.write(task.userId(), new RunReplays.Replay(task.job().agentName(), task.job().requestedAt(),
					terminal, task.offsets().upTo(tokens)));
		}
		catch (RuntimeException ex) {
			// costs only the resume of this run, never its outcome
			log.warn("could not keep the replay of run {}: {}", task.runId(), ex.toString());
			return null;
		}
	}

	/**
	 * Clears the recorded stop requests that arrived after the outcome's write took the
	 * others with it.
	 */
	private void clearLate(List<String> late) {
		late.forEach(raw -> stopRequests.clear(workerId, raw));
	}

	private static List<RunEvent.MessageAdded> messagesAdded(RunningTask task, RunOutcome outcome) {
		List<RunEvent.MessageAdded> added = new ArrayList<>();
		for (HistoryMessage message : outcome.messages(task.runId())) {
			added.add(new RunEvent.MessageAdded(task.runId(), task.conversationId(), message, outcome.at()));
		}
		return added;
	}

	/** What became of a run's outcome. */
	enum Recorded {

		/** this finish ended the run: its outcome is in the history, announce it */
		ENDED,
		/**
		 * the record was no longer this run's (reaped, replaced): someone else ended it
		 */
		FENCED,
		/** Redis stayed unreachable: the record is left to the ownership check */
		UNKNOWN

	}

	/**
	 * Records the outcome (and writes {@code replay} and publishes {@code announcement}
	 * with it, when given and only if this finish ends the run, and removes the
	 * {@code settled} stop requests), retrying while Redis is unreachable (a restart, a
	 * failover) so the outcome is not lost and the record not left behind. Bounded: after
	 * that the ownership check takes over. A finish fenced out because Redis lost the
	 * record (a restart without persistence before the heartbeat re-registered it)
	 * restores the run and finishes once more; one fenced out because the run was ended
	 * elsewhere announces nothing.
	 */
	private Recorded persist(RunRecord record, RunOutcome outcome,
			ConversationRegistry.@Nullable Announcement announcement, List<String> settled,
			RunReplays.@Nullable Write replay) {
		// kept first: should a failover lose this write, the ownership check writes it
		// again
		HistoryMessage asked = asked(record);
		outcomes.remember(record, outcome, asked);
		long deadline = System.nanoTime() + PERSIST_BOUND.toNanos();
		long backoffMillis = 50;
		boolean restored = false;
		while (true) {
			try {
				if (registry.finish(record, outcome, announcement, settled, replay)) {
					return Recorded.ENDED;
				}
				ConversationRegistry.Restore restore = restored ? null : registry.restore(record, asked);
				if (restore != ConversationRegistry.Restore.RESTORED
						&& restore != ConversationRegistry.Restore.PRESENT) {
					log.info("the outcome of run {} was not recorded: the run was ended elsewhere", record.runId());
					return Recorded.FENCED;
				}
				restored = true;
			}
			catch (RuntimeException ex) {
				if (System.nanoTime() > deadline) {
					log.error("could not record the outcome of run {}: {}", record.runId(), ex.toString());
					return Recorded.UNKNOWN;
				}
				log.warn("recording the outcome of run {} failed ({}); retrying", record.runId(), ex.toString());
				LockSupport.parkNanos(backoffMillis * 1_000_000);
				backoffMillis = Math.min(backoffMillis * 2, 1000);
			}
		}
	}

	/**
	 * The user's message of the run, from its local task (a restore writes it back when a
	 * failover lost the reservation).
	 */
	private @Nullable HistoryMessage asked(RunRecord record) {
		return tasks.find(record.userId(), record.conversationId())
			.filter(task -> task.runId().equals(record.runId()))
			.map(task -> AskedMessage.of(task.job()))
			.orElse(null);
	}

	/** The worker's limit, lowered (never raised) by the request's own. */
	private Duration maxDuration(StartRun job) {
		Integer requested = job.maxDurationSeconds();
		return requested == null ? maxRunDuration : Duration.ofSeconds(Math.min(requested, maxRunDuration.toSeconds()));
	}

	private static RunRecord queuedRecord(StartRun job) {
		return RunRecord.queued(job.runId(), job.userId(), job.conversationId(), job.agentName(), job.replyTo(),
				job.requestedAt());
	}

}
