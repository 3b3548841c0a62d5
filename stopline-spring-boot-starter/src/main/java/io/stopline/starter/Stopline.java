package io.stopline.starter;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import io.stopline.core.events.RunEvents;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.run.ConversationRegistry.Reservation;
import io.stopline.core.run.RunRecord;
import io.stopline.protocol.HistoryMessage;
import io.stopline.protocol.RunEvent;
import io.stopline.protocol.StartRun;
import io.stopline.protocol.StopReason;
import io.stopline.starter.task.LocalTaskRegistry;
import io.stopline.starter.task.TaskRunner;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * Makes an application's own streams stoppable from any replica. {@link #run} registers a
 * run for a conversation and user around a stream (recorded in Redis as this node's,
 * listed among the user's active runs), and returns the tokens as they pass: a stop from
 * any node (this API's {@link #stop}, the optional endpoints, a Stopline gateway) cancels
 * the upstream subscription, keeps the partial answer in the conversation's history with
 * a stop marker, confirms, and completes the returned {@code Flux}. A pause holds the
 * upstream by backpressure. The same engine runs Stopline's own worker.
 */
public final class Stopline {

	private final ConversationRegistry registry;

	private final TaskRunner runner;

	private final LocalTaskRegistry tasks;

	private final RunEvents events;

	private final Stops stops;

	private final String nodeId;

	Stopline(ConversationRegistry registry, TaskRunner runner, LocalTaskRegistry tasks, RunEvents events, Stops stops,
			String nodeId) {
		this.registry = registry;
		this.runner = runner;
		this.tasks = tasks;
		this.events = events;
		this.stops = stops;
		this.nodeId = nodeId;
	}

	/**
	 * Registers a run around {@code tokens} on subscription. The returned {@code Flux}
	 * emits the tokens the run kept and completes when the run ends (normally when it was
	 * stopped, with the upstream's error when that failed); it is empty when the run id
	 * was stopped before it started, and fails with {@link RunRefused} when the
	 * conversation has another active run. Cancelling it stops the run.
	 */
	public Flux<String> run(RunRequest request, Publisher<String> tokens) {
		return Flux.defer(() -> start(request, tokens)).subscribeOn(Schedulers.boundedElastic());
	}

	/** {@link #run(RunRequest, Publisher)} with a fresh run id and no prompt recorded. */
	public Flux<String> run(String conversationId, String userId, String agent, Flux<String> tokens) {
		return run(RunRequest.of(conversationId, userId, agent, ""), tokens);
	}

	/**
	 * A blocking stream, pulled token by token on the run's virtual thread; closed when
	 * the run is stopped.
	 */
	public Flux<String> run(RunRequest request, Stream<String> tokens) {
		return run(request, Flux.fromStream(tokens));
	}

	/** An answer that arrives whole; cancelled (interrupting) when the run is stopped. */
	public Flux<String> run(RunRequest request, CompletableFuture<String> answer) {
		return run(request, Mono.fromFuture(answer, false).flux());
	}

	/** An answer that arrives whole; cancelled (interrupting) when the run is stopped. */
	public Flux<String> run(RunRequest request, Future<String> answer) {
		return run(request, Mono.fromCallable(answer::get).doFinally(signal -> answer.cancel(true)).flux());
	}

	/**
	 * Stops the user's run of the conversation, on whichever node runs it, and waits a
	 * bounded time for the owner's confirmation; with {@code runId}, only that run, and a
	 * run id that has not started is stopped before it starts.
	 */
	public StopResult stop(String userId, String conversationId, @Nullable String runId) {
		return stop(userId, conversationId, runId, null);
	}

	/**
	 * As {@link #stop(String, String, String)}; {@code seenTokens} (the tokens the
	 * stopping client displayed) cuts the answer kept.
	 */
	public StopResult stop(String userId, String conversationId, @Nullable String runId, @Nullable Integer seenTokens) {
		return stops.stop(userId, conversationId, runId, seenTokens, StopReason.USER);
	}

	/**
	 * Stops every active run of the user (the conversations named, when given), on every
	 * node, in parallel; returns each conversation's result.
	 */
	public Map<String, StopResult> stopAll(String userId, @Nullable List<String> conversationIds) {
		List<String> targets = conversationIds != null ? conversationIds.stream().distinct().toList()
				: active(userId).stream().map(RunRecord::conversationId).distinct().toList();
		Map<String, Future<StopResult>> pending = new LinkedHashMap<>();
		try (ExecutorService parallel = Executors.newVirtualThreadPerTaskExecutor()) {
			targets.forEach(id -> pending.put(id,
					parallel.submit(() -> stops.stop(userId, id, null, null, StopReason.STOP_ALL))));
		}
		Map<String, StopResult> results = new LinkedHashMap<>();
		pending.forEach((id, result) -> results.put(id, result.resultNow()));
		return results;
	}

	/** The user's queued and running runs, on every node. */
	public List<RunRecord> active(String userId) {
		return registry.active(userId);
	}

	/** This node's id in the registry ({@code stopline.worker.id}). */
	public String nodeId() {
		return nodeId;
	}

	private static IllegalStateException unexpected(Reservation reservation) {
		return new IllegalStateException("a rejecting reservation answered " + reservation);
	}

	private Flux<String> start(RunRequest request, Publisher<String> tokens) {
		Instant now = Instant.now();
		RunRecord run = RunRecord.queued(request.runId(), request.userId(), request.conversationId(), request.agent(),
				nodeId, now);
		HistoryMessage prompt = HistoryMessage.user(request.prompt(), run.runId(), now);
		switch (registry.reserve(run, prompt)) {
			case Reservation.Reserved reserved -> {
			}
			case Reservation.StoppedBefore before -> {
				return Flux.empty();
			}
			case Reservation.Ended ended -> {
				return Flux.error(new RunRefused(RunRefused.Cause.ENDED, "run " + run.runId() + " has ended"));
			}
			case Reservation.Busy busy -> {
				return Flux.error(new RunRefused(RunRefused.Cause.BUSY,
						"conversation " + run.conversationId() + " already has an active run"));
			}
			case Reservation.TooManyActive tooMany -> {
				return Flux.error(new RunRefused(RunRefused.Cause.BUSY, "too many active runs"));
			}
			// on_active's answers: this reservation rejects when busy, so none can come
			case Reservation.Waiting waiting -> throw unexpected(waiting);
			case Reservation.AlreadyWaiting waiting -> throw unexpected(waiting);
			case Reservation.QueueFull full -> throw unexpected(full);
			case Reservation.AlreadyReplaced replaced -> throw unexpected(replaced);
		}
		events.toConversationAsync(run.userId(),
				new RunEvent.MessageAdded(run.runId(), run.conversationId(), prompt, now));
		Sinks.Many<String> kept = Sinks.many().unicast().onBackpressureBuffer();
		FluxGeneration generation = new FluxGeneration(tokens, kept);
		runner.start(job(request, now), generation, () -> {
		}, generation::ended);
		return kept.asFlux()
			.doOnCancel(() -> tasks.stop(run.userId(), run.conversationId(), run.runId(), StopReason.USER));
	}

	private StartRun job(RunRequest request, Instant now) {
		Integer maxSeconds = request.maxDuration() == null ? null
				: (int) Math.max(1, request.maxDuration().toSeconds());
		return new StartRun(request.runId(), request.userId(), request.conversationId(), request.agent(),
				List.of(new StartRun.ChatMessage("user", request.prompt())), 0, nodeId, now, maxSeconds);
	}

}
