package io.stopline.starter.task;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

import io.stopline.protocol.RunEvent.RunStopped;
import io.stopline.protocol.StartRun;
import io.stopline.core.run.RunRecord;
import io.stopline.protocol.StopReason;
import io.stopline.protocol.TokenOffsets;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run on this worker: its job, its claimed record, the answer so far, and two small
 * parts that hold its concurrency: the {@link StopLatch} (the stop/complete race, who
 * waits for the confirmation) and the {@link PauseGate} (pause and resume between
 * tokens).
 */
public final class RunningTask {

	private static final Logger log = LoggerFactory.getLogger(RunningTask.class);

	private static final Duration SNAPSHOT_DRAIN = Duration.ofSeconds(2);

	private final StartRun job;

	private final PauseGate gate = new PauseGate(() -> drainFrames(SNAPSHOT_DRAIN));

	private final StopLatch latch = new StopLatch(gate::close);

	/** A WebSocket watches the conversation: tokens go to its event channel too. */
	private volatile boolean watched = true;

	private volatile boolean finishing;

	private volatile @Nullable RunRecord record;

	private volatile @Nullable TokenOutbox outbox;

	/** Only the generating thread appends; readers come after generation ended. */
	private final StringBuilder content = new StringBuilder();

	private int tokens;

	/**
	 * The end (in characters) of each token of the answer, the first {@link #tokens}
	 * used: ints, not boxed, since they live as long as the run and every young
	 * collection copies what lives.
	 */
	private int[] tokenEnds = new int[64];

	private volatile @Nullable Instant upstreamClosedAt;

	private final AtomicInteger tokensAfterStop = new AtomicInteger();

	private final AtomicInteger lostTokens = new AtomicInteger();

	/** Where the published frames end: what a resumed chat stream starts from. */
	private final TokenOffsets.Recorder offsets = new TokenOffsets.Recorder();

	/** What produces the run's tokens (and its tool calls, when it makes some). */
	private final Generation generation;

	RunningTask(StartRun job, Generation generation) {
		this.job = job;
		this.generation = generation;
	}

	Generation generation() {
		return generation;
	}

	public StartRun job() {
		return job;
	}

	public String runId() {
		return job.runId();
	}

	public String userId() {
		return job.userId();
	}

	public String conversationId() {
		return job.conversationId();
	}

	/** Where the published frames end (a snapshot hands them to a resumed stream). */
	public TokenOffsets.Recorder offsets() {
		return offsets;
	}

	public @Nullable RunRecord record() {
		return record;
	}

	void claimed(RunRecord claimed) {
		this.record = claimed;
	}

	/** Set once, before generation starts. */
	void outbox(TokenOutbox outbox) {
		this.outbox = outbox;
	}

	TokenOutbox outbox() {
		TokenOutbox current = outbox;
		if (current == null) {
			throw new IllegalStateException("run " + runId() + " has not started generating");
		}
		return current;
	}

	/**
	 * Sends the frames still pending and waits until Redis took them (a pause or a
	 * snapshot must not overtake tokens already generated).
	 */
	void drainFrames(Duration bound) {
		TokenOutbox current = outbox;
		if (current != null) {
			current.drain(bound);
		}
	}

	/** A stop the worker decided itself (timeout, shutdown, lost). */
	public StopAttempt requestStop(StopReason reason) {
		return requestStop(reason, null, null, Instant.now());
	}

	/**
	 * Asks the task to stop. The first accepted request interrupts the generation; later
	 * ones only add the gateway to notify ({@code replyTo}) and the recorded request to
	 * clear once the stop is done ({@code rawStop}).
	 */
	public StopAttempt requestStop(StopReason reason, @Nullable String replyTo, @Nullable String rawStop,
			Instant requestedAt) {
		return requestStop(reason, replyTo, rawStop, requestedAt, null);
	}

	/**
	 * As {@link #requestStop(StopReason, String, String, Instant)}; {@code seenTokens}
	 * (the tokens the stopping client displayed) cuts the answer kept, when this request
	 * is the one that stops the run.
	 */
	public StopAttempt requestStop(StopReason reason, @Nullable String replyTo, @Nullable String rawStop,
			Instant requestedAt, @Nullable Integer seenTokens) {
		return latch.request(reason, replyTo, rawStop, requestedAt, seenTokens);
	}

	/** Pause and resume of this run. */
	public PauseGate pauseGate() {
		return gate;
	}

	/**
	 * Marks the current thread as the generating one; false when a stop came first (do
	 * not generate at all).
	 */
	boolean beginGeneration() {
		return latch.begin();
	}

	/**
	 * Ends generation: null when the run completes, else the stop that won. Clears any
	 * pending interrupt; pauses and resumes find the run ending from now on.
	 */
	@Nullable Stopped endGeneration() {
		Stopped stopped = latch.end();
		gate.close();
		return stopped;
	}

	/**
	 * Hands one token over (via {@code emission}) unless the run is paused; waits then.
	 */
	void emit(PauseGate.Emission emission) throws InterruptedException {
		gate.pass(emission);
	}

	/**
	 * Waits while the run is paused (the tool loop calls it before each model turn);
	 * throws once the run stops.
	 */
	void awaitResumed() throws InterruptedException {
		gate.await();
	}

	/** Still generating: neither stopping nor ending. */
	public boolean isRunning() {
		return latch.isRunning();
	}

	public boolean isWatched() {
		return watched;
	}

	void watched(boolean watched) {
		this.watched = watched;
	}

	/**
	 * Hands the answer so far and its token count to {@code publish} between two tokens,
	 * after the frames before it are out, so the tokens that follow it continue exactly
	 * where it ends; from then on the run's tokens are watched.
	 */
	public void snapshot(BiConsumer<String, Integer> publish) {
		gate.betweenTokens(() -> {
			watched = true;
			drainFrames(SNAPSHOT_DRAIN);
			publish.accept(content.toString(), tokens);
		});
	}

	/** Generation is over and the outcome is being recorded. */
	void finishing() {
		finishing = true;
	}

	public boolean isFinishing() {
		return finishing;
	}

	/** The recorded stop requests heard so far (exact stop-set members). */
	List<String> recordedStops() {
		return latch.recordedStops();
	}

	/**
	 * The stopped run's outcome is recorded: later stops are answered with {@code event}.
	 * Returns the gateways and recorded requests that arrived since {@code stopped} was
	 * taken.
	 */
	Stopped.Late settle(Stopped stopped, RunStopped event) {
		gate.timeout(null);
		return latch.settle(stopped, event);
	}

	/** The run completed or failed; returns the recorded stop requests heard. */
	List<String> settle() {
		gate.timeout(null);
		return latch.settle();
	}

	/** How a stopped run ended, once recorded; null before or when it did not stop. */
	public @Nullable RunStopped stoppedEvent() {
		return latch.stopped();
	}

	/** Appends a token; returns its index. Only the generating thread calls it. */
	int append(String token) {
		content.append(token);
		if (tokens == tokenEnds.length) {
			tokenEnds = Arrays.copyOf(tokenEnds, tokens * 2);
		}
		tokenEnds[tokens] = content.length();
		return tokens++;
	}

	/** How many characters the first {@code count} tokens make. */
	int charsOf(int count) {
		return count <= 0 ? 0 : tokenEnds[Math.min(count, tokens) - 1];
	}

	/** The model closed its connection to the provider. */
	void upstreamClosed(Instant at) {
		upstreamClosedAt = at;
	}

	@Nullable Instant upstreamClosedAt() {
		return upstreamClosedAt;
	}

	/** The model handed over a token after the stop was delivered: counted, not kept. */
	void tokenAfterStop() {
		tokensAfterStop.incrementAndGet();
	}

	int tokensAfterStop() {
		return tokensAfterStop.get();
	}

	String content() {
		return content.toString();
	}

	int tokens() {
		return tokens;
	}

	/**
	 * A token could not be published; logged once per run so an outage does not flood the
	 * log.
	 */
	void noteLostToken(Throwable cause) {
		if (lostTokens.getAndIncrement() == 0) {
			log.warn("run {} could not publish tokens ({}); generation continues", runId(), cause.toString());
		}
	}

}
