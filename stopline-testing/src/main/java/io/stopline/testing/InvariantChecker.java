package io.stopline.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import io.stopline.testing.OperationLog.Kind;
import io.stopline.testing.OperationLog.Op;

/**
 * Checks a fault scenario's {@link OperationLog} against the system's state once the
 * fault has healed, and samples ownership while it runs:
 * <ol>
 * <li>a confirmed stop (200): the run's answer is {@code stopped}, and the text the
 * client streamed equals the recorded text, so no token generated after the stop reached
 * the client (a token received after the 200 is one generated before it, still in flight:
 * it is part of the recorded answer);</li>
 * <li>no run is listed active with a dead owner for longer than the reaper's bound
 * (sampled during the fault), and none is once the fault healed (waited for within the
 * bound);</li>
 * <li>never two live owners of one run, nor two live workers each holding a run of one
 * conversation, for longer than a sample's blink;</li>
 * <li>every run a client was told of has exactly one assistant message in the history:
 * none lost, none duplicated; a completed run's recorded text equals the streamed
 * text;</li>
 * <li>every conversation accepts a new message within the bound.</li>
 * </ol>
 * It prints its counts: {@code [invariants] scenario=... ops=... stops=... violations=0}.
 * Each violation starts with its kind ({@code lost:}, {@code duplicated:},
 * {@code stop-not-kept:}, {@code token-after-stop:}, {@code completed-mismatch:},
 * {@code ownerless:}, {@code two-owners:}, {@code not-accepting:}), so a scenario whose
 * fault loses acknowledged writes by design (asynchronous replication) can count
 * {@code lost:} as a figure and hold the others as invariants.
 */
public final class InvariantChecker implements AutoCloseable {

	/** How long two live holders of one conversation may be seen before it is a fault. */
	private static final Duration OVERLAP = Duration.ofSeconds(1);

	/**
	 * How long a run may be listed with a dead owner during a fault: the default
	 * {@code heartbeat-ttl} (10 s) plus the reaper's interval (2 s) and a margin.
	 */
	private static final Duration OWNERLESS_BOUND = Duration.ofSeconds(15);

	/** Conversations asked for a new message at once by the final check. */
	private static final int ACCEPT_CONCURRENCY = 16;

	/** What the checker reads from the system (through its API and Redis). */
	public interface Probe {

		/**
		 * The runs listed active now: conversation, run id, owner (null while queued).
		 */
		List<Listed> active();

		/** Whether this worker's heartbeat is alive now. */
		boolean alive(String workerId);

		/**
		 * The runs each live worker's index holds now: worker id → (run id →
		 * conversation).
		 */
		Map<String, Map<String, String>> liveHoldings();

		/** The conversation's history. */
		List<Message> history(String conversation);

		/**
		 * Sends a new message to the conversation and stops or finishes it; true when it
		 * was accepted (not 409, not an error).
		 */
		boolean accepts(String conversation);

	}

	/** An active run as listed. */
	public record Listed(String conversation, String runId, String workerId, String state) {
	}

	/** One history entry. */
	public record Message(String role, String runId, String status, String content) {
	}

	private final String scenario;

	private final OperationLog log;

	private final Probe probe;

	private final List<String> violations = new ArrayList<>();

	private final Map<String, Long> overlapSince = new HashMap<>();

	private final Map<String, Long> ownerlessSince = new HashMap<>();

	private long ownerlessSamples;

	private long checkedTurns;

	private long checkedConfirmed;

	private final AtomicBoolean sampling = new AtomicBoolean();

	private Thread sampler;

	private long samples;

	private long interruptedLostChars;

	private final Map<String, Object> figures = new LinkedHashMap<>();

	public InvariantChecker(String scenario, OperationLog log, Probe probe) {
		this.scenario = scenario;
		this.log = log;
		this.probe = probe;
	}

	/** Samples ownership every 100 ms until {@link #close()} or {@link #check}. */
	public InvariantChecker sampleOwnership() {
		sampling.set(true);
		sampler = Thread.ofVirtual().name("invariant-sampler").start(() -> {
			long round = 0;
			while (sampling.get()) {
				try {
					sample();
					if (round++ % 5 == 0) {
						sampleOwnerless();
					}
				}
				catch (RuntimeException ex) {
					// Redis unreachable during the fault: nothing to sample
				}
				LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
			}
		});
		return this;
	}

	private void sample() {
		Map<String, Map<String, String>> holdings = probe.liveHoldings();
		Map<String, Set<String>> holdersOfRun = new HashMap<>();
		Map<String, Set<String>> runsOfConversation = new HashMap<>();
		holdings.forEach((worker, runs) -> runs.forEach((run, conversation) -> {
			holdersOfRun.computeIfAbsent(run, key -> new LinkedHashSet<>()).add(worker);
			runsOfConversation.computeIfAbsent(conversation, key -> new LinkedHashSet<>()).add(run + "@" + worker);
		}));
		long now = System.nanoTime();
		synchronized (this) {
			samples++;
			holdersOfRun.forEach((run, workers) -> {
				if (workers.size() > 1) {
					violation("two-owners: run " + run + " held by two live workers at once: " + workers);
				}
			});
			Set<String> seen = new LinkedHashSet<>();
			runsOfConversation.forEach((conversation, holders) -> {
				if (holders.size() > 1) {
					String key = conversation + " " + holders;
					seen.add(key);
					long since = overlapSince.computeIfAbsent(key, k -> now);
					if (now - since > OVERLAP.toNanos()) {
						violation("two-owners: conversation " + conversation + " has runs on two live workers for over "
								+ OVERLAP.toMillis() + " ms: " + holders);
						overlapSince.put(key, Long.MAX_VALUE / 2);
					}
				}
			});
			overlapSince.keySet().retainAll(seen);
		}
	}

	/**
	 * Runs listed with a dead owner: one seen so for longer than {@link #OWNERLESS_BOUND}
	 * is a fault (the reaper should have ended it).
	 */
	private void sampleOwnerless() {
		List<Listed> listed = probe.active();
		long now = System.nanoTime();
		Set<String> seen = new LinkedHashSet<>();
		for (Listed run : listed) {
			if (run.workerId() == null || probe.alive(run.workerId())) {
				continue;
			}
			String key = run.runId() + "@" + run.workerId();
			seen.add(key);
			synchronized (this) {
				long since = ownerlessSince.computeIfAbsent(key, k -> now);
				if (now - since > OWNERLESS_BOUND.toNanos()) {
					violation("ownerless: run " + run.runId() + " of " + run.conversation() + " listed with dead owner "
							+ run.workerId() + " for over " + OWNERLESS_BOUND.toSeconds() + " s during the fault");
					ownerlessSince.put(key, Long.MAX_VALUE / 2);
				}
			}
		}
		synchronized (this) {
			ownerlessSamples++;
			ownerlessSince.keySet().retainAll(seen);
		}
	}

	/** The violations of one kind ({@code lost}, ...) in a result of {@link #check}. */
	public static List<String> ofKind(List<String> violations, String kind) {
		return violations.stream().filter(violation -> violation.startsWith(kind + ":")).toList();
	}

	/** The violations of every other kind. */
	public static List<String> except(List<String> violations, String... kinds) {
		return violations.stream()
			.filter(violation -> java.util.Arrays.stream(kinds).noneMatch(kind -> violation.startsWith(kind + ":")))
			.toList();
	}

	/** A figure to print with the counts (a measured time, a lost-write count). */
	public InvariantChecker figure(String name, Object value) {
		figures.put(name, value);
		return this;
	}

	/**
	 * Runs every check, waiting up to {@code bound} for runs to settle and conversations
	 * to accept messages; prints the counts; returns the violations (empty when the
	 * invariants hold).
	 */
	public List<String> check(Duration bound) {
		stopSampling();
		awaitStreamsEnded(bound);
		List<Op> ops = log.ops();
		Set<String> conversations = new LinkedHashSet<>();
		ops.forEach(op -> conversations.add(op.conversation()));
		long settledNanos = awaitNoOwnerlessRuns(bound);
		long answersNanos = awaitAnswers(ops, bound);
		checkHistories(ops, conversations);
		long acceptNanos = awaitAccepting(conversations, bound);
		long stops = log.count(Kind.STOP);
		long confirmed = ops.stream().filter(op -> op.kind() == Kind.STOP_ANSWER && op.value().equals("200")).count();
		synchronized (this) {
			System.out.printf(
					"[invariants] scenario=%s ops=%d sends=%d tokens=%d stops=%d confirmed=%d samples=%d "
							+ "ownerless_samples=%d turns_checked=%d confirmed_checked=%d conversations_accepting=%d "
							+ "settled_ms=%d answers_ms=%d accepting_ms=%d interrupted_chars_lost=%d%s violations=%d%n",
					scenario, ops.size(), log.count(Kind.SEND), log.count(Kind.TOKEN), stops, confirmed, samples,
					ownerlessSamples, checkedTurns, checkedConfirmed, conversations.size(), settledNanos / 1_000_000,
					answersNanos / 1_000_000, acceptNanos / 1_000_000, interruptedLostChars, figures(),
					violations.size());
			violations.forEach(violation -> System.out.println("[invariants]   violation: " + violation));
			return List.copyOf(violations);
		}
	}

	private String figures() {
		StringBuilder text = new StringBuilder();
		figures.forEach((name, value) -> text.append(' ').append(name).append('=').append(value));
		return text.toString();
	}

	/**
	 * Waits (within the bound) until every stream whose run is no longer listed has
	 * ended: its last events (the rest of the answer the terminal event carries) may
	 * still be on their way, or be recovered by the gateway after a lost terminal event.
	 */
	private void awaitStreamsEnded(Duration bound) {
		long start = System.nanoTime();
		while (System.nanoTime() - start < bound.toNanos()) {
			Map<String, String> openRuns = new HashMap<>();
			Set<String> ended = new java.util.HashSet<>();
			for (Op op : log.ops()) {
				if (op.kind() == Kind.SEND_ANSWER && !op.value().startsWith("status:")) {
					openRuns.put(op.turn(), op.conversation() + " " + op.value());
				}
				else if (op.kind() == Kind.TERMINAL) {
					ended.add(op.turn());
				}
			}
			openRuns.keySet().removeAll(ended);
			if (openRuns.isEmpty()) {
				return;
			}
			Set<String> listed = listedRuns();
			if (listed.containsAll(openRuns.values())) {
				// the rest is still running: judged when it ends
				return;
			}
			LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
		}
	}

	/** Check 2: listed runs have live owners (or are queued) within the bound. */
	private long awaitNoOwnerlessRuns(Duration bound) {
		long start = System.nanoTime();
		List<Listed> ownerless = List.of();
		while (System.nanoTime() - start < bound.toNanos()) {
			try {
				ownerless = probe.active()
					.stream()
					.filter(run -> run.workerId() != null && !probe.alive(run.workerId()))
					.toList();
				if (ownerless.isEmpty()) {
					return System.nanoTime() - start;
				}
			}
			catch (RuntimeException ex) {
				// not reachable yet
			}
			LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
		}
		ownerless.forEach(run -> violation("ownerless: run " + run.runId() + " of " + run.conversation()
				+ " still listed active with a dead owner " + run.workerId() + " after " + bound.toSeconds() + " s"));
		return System.nanoTime() - start;
	}

	/**
	 * Waits (within the bound) until every run the client was told of that is no longer
	 * listed has an answer in the history: an outcome a failover lost is written again by
	 * its worker a few seconds later, and only one still missing after the bound is lost.
	 */
	private long awaitAnswers(List<Op> ops, Duration bound) {
		long start = System.nanoTime();
		Map<String, String> waiting = new HashMap<>();
		for (Op op : ops) {
			if (op.kind() == Kind.SEND_ANSWER && !op.value().startsWith("status:")) {
				waiting.put(op.value(), op.conversation());
			}
		}
		// all that is left listed on two reads in a row: still running
		boolean listedBefore = false;
		while (!waiting.isEmpty() && System.nanoTime() - start < bound.toNanos()) {
			try {
				Set<String> listed = listedRuns();
				Map<String, List<Message>> histories = new HashMap<>();
				// answered: done; listed: still running (judged when it ends), or listed
				// for a
				// moment while Redis switches over, so read again until the rest is
				// answered
				waiting.entrySet()
					.removeIf(run -> histories.computeIfAbsent(run.getValue(), probe::history)
						.stream()
						.anyMatch(
								message -> message.role().equals("assistant") && run.getKey().equals(message.runId())));
				boolean allListed = waiting.entrySet()
					.stream()
					.allMatch(run -> listed.contains(run.getValue() + " " + run.getKey()));
				if (waiting.isEmpty() || (allListed && listedBefore)) {
					break;
				}
				listedBefore = allListed;
			}
			catch (RuntimeException ex) {
				// not reachable yet
			}
			LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
		}
		return System.nanoTime() - start;
	}

	/** Checks 1 and 4, per turn the client was told of. */
	private void checkHistories(List<Op> ops, Set<String> conversations) {
		Map<String, List<Op>> byTurn = new LinkedHashMap<>();
		ops.forEach(op -> byTurn.computeIfAbsent(op.turn(), key -> new ArrayList<>()).add(op));
		Map<String, List<Message>> histories = new HashMap<>();
		for (String conversation : conversations) {
			histories.put(conversation, probe.history(conversation));
		}
		Set<String> listed = listedRuns();
		for (List<Op> turn : byTurn.values()) {
			String conversation = turn.get(0).conversation();
			String runId = turn.stream()
				.filter(op -> op.kind() == Kind.SEND_ANSWER && !op.value().startsWith("status:"))
				.map(Op::value)
				.findFirst()
				.orElse(null);
			if (runId == null) {
				continue;
			}
			if (listed.contains(conversation + " " + runId)) {
				// still running (a long run the scenario left alone): judged when it ends
				continue;
			}
			List<Message> answers = histories.get(conversation)
				.stream()
				.filter(message -> message.role().equals("assistant") && runId.equals(message.runId()))
				.toList();
			if (answers.isEmpty()) {
				violation("lost: run " + runId + " of " + conversation + " has no assistant message");
				continue;
			}
			if (answers.size() > 1) {
				violation("duplicated: run " + runId + " of " + conversation + " has " + answers.size()
						+ " assistant messages: duplicated");
			}
			Message answer = answers.get(0);
			String streamed = streamed(turn);
			synchronized (this) {
				checkedTurns++;
			}
			if (answer.status().equals("interrupted") && streamed.length() > answer.content().length()) {
				// what an interrupted run loses: the part the client saw but the history
				// lacks
				interruptedLostChars += streamed.length() - answer.content().length();
			}
			boolean confirmedStop = turn.stream()
				.anyMatch(op -> op.kind() == Kind.STOP_ANSWER && op.value().equals("200"));
			if (confirmedStop) {
				synchronized (this) {
					checkedConfirmed++;
				}
			}
			if (confirmedStop && !answer.status().equals("stopped")) {
				violation("stop-not-kept: run " + runId + " of " + conversation + ": a stop was answered 200, but the "
						+ "answer is " + answer.status());
			}
			// a stream that broke off before the stop (its gateway shut down) saw only a
			// prefix of the answer; the rest was generated before the stop all the same
			long confirmedAt = turn.stream()
				.filter(op -> op.kind() == Kind.STOP_ANSWER && op.value().equals("200"))
				.mapToLong(Op::nanos)
				.min()
				.orElse(Long.MAX_VALUE);
			boolean brokenBefore = turn.stream()
				.anyMatch(op -> op.kind() == Kind.TERMINAL && op.value().equals("error") && op.nanos() < confirmedAt);
			boolean streamedAll = brokenBefore ? answer.content().startsWith(streamed)
					: streamed.equals(answer.content());
			if (confirmedStop && answer.status().equals("stopped") && !streamedAll) {
				violation("token-after-stop: run " + runId + " of " + conversation + ": stop confirmed, but streamed "
						+ streamed.length() + " chars and recorded " + answer.content().length()
						+ " (a token after the stop, or one lost)");
			}
			if (answer.status().equals("complete") && !streamed.equals(answer.content()) && ended(turn)) {
				violation("completed-mismatch: run " + runId + " of " + conversation + " completed with "
						+ answer.content().length() + " chars recorded but " + streamed.length() + " streamed");
			}
		}
	}

	/** The runs listed active now, as {@code conversation runId}. */
	private Set<String> listedRuns() {
		Set<String> listed = new java.util.HashSet<>();
		try {
			probe.active().forEach(run -> listed.add(run.conversation() + " " + run.runId()));
		}
		catch (RuntimeException ex) {
			// unreachable: nothing is judged as still running
		}
		return listed;
	}

	private static boolean ended(List<Op> turn) {
		return turn.stream().anyMatch(op -> op.kind() == Kind.TERMINAL && !op.value().equals("error"));
	}

	private static String streamed(List<Op> turn) {
		StringBuilder text = new StringBuilder();
		turn.stream().filter(op -> op.kind() == Kind.TOKEN).forEach(op -> text.append(op.value()));
		return text.toString();
	}

	/**
	 * Check 5: every conversation takes a new message within the bound (asked
	 * {@link #ACCEPT_CONCURRENCY} at a time).
	 */
	private long awaitAccepting(Set<String> conversations, Duration bound) {
		long start = System.nanoTime();
		java.util.concurrent.Semaphore slots = new java.util.concurrent.Semaphore(ACCEPT_CONCURRENCY);
		try (java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors
			.newVirtualThreadPerTaskExecutor()) {
			for (String conversation : conversations) {
				slots.acquireUninterruptibly();
				pool.execute(() -> {
					try {
						awaitAccepting(conversation, start, bound);
					}
					finally {
						slots.release();
					}
				});
			}
		}
		return System.nanoTime() - start;
	}

	private void awaitAccepting(String conversation, long start, Duration bound) {
		boolean accepted = false;
		while (!accepted && System.nanoTime() - start < bound.toNanos()) {
			try {
				accepted = probe.accepts(conversation);
			}
			catch (RuntimeException ex) {
				// not reachable yet
			}
			if (!accepted) {
				LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
			}
		}
		if (!accepted) {
			violation("not-accepting: " + conversation + " accepts no new message " + bound.toSeconds()
					+ " s after the fault healed");
		}
	}

	private synchronized void violation(String what) {
		violations.add(what);
	}

	private void stopSampling() {
		if (sampling.getAndSet(false) && sampler != null) {
			try {
				sampler.join(Duration.ofSeconds(5));
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	@Override
	public void close() {
		stopSampling();
	}

}
