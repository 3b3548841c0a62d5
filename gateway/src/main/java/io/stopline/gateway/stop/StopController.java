package io.stopline.gateway.stop;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.stopline.gateway.system.Problems;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.run.RunRecord;
import org.jspecify.annotations.Nullable;

import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * The stop API: stop one conversation, stop all of the caller's, list the caller's active
 * runs.
 */
@RestController
class StopController {

	private final StopService stops;

	private final ConversationRegistry registry;

	private final StopRateLimiter rateLimiter;

	private final StopThreads threads;

	StopController(StopService stops, ConversationRegistry registry, StopRateLimiter rateLimiter, StopThreads threads) {
		this.threads = threads;
		this.stops = stops;
		this.registry = registry;
		this.rateLimiter = rateLimiter;
	}

	/**
	 * Stops the conversation's active run; with {@code {"run_id": "…"}} only that run,
	 * and a run id that has not arrived yet is stopped before it starts (202). The
	 * request's thread waits for the owner's answer: answered asynchronously, the idle
	 * stop paid a second dispatch through the filter chain (p50 1.5 -> 2.1-2.4 ms), and a
	 * burst of 500 stops was not faster (BENCHMARKS.md, session 8).
	 */
	@PostMapping("/v1/conversation/{conversationId}/stop")
	ResponseEntity<Map<String, Object>> stop(@AuthenticationPrincipal Jwt jwt, @PathVariable String conversationId,
			@RequestBody(required = false) @Nullable SingleStop body) {
		Problems.requireConversationId(conversationId);
		String runId = body == null ? null : body.validatedRunId();
		Integer seenTokens = body == null ? null : body.validatedSeenTokens();
		// the permit is taken by the stop's own lookup script: no round trip of its own
		StopCommand command = StopCommand.byUser(jwt.getSubject(), conversationId, runId, seenTokens);
		return threads.call(() -> stops.stop(command)).answer(conversationId);
	}

	/**
	 * The optional body of a single stop: the run to stop, and how many of its tokens the
	 * stopping client displayed (the answer kept is cut to them).
	 */
	record SingleStop(@Nullable String runId, @Nullable Integer seenTokens) {

		@Nullable Integer validatedSeenTokens() {
			if (seenTokens != null && seenTokens < 0) {
				throw Problems.of(HttpStatus.BAD_REQUEST, "seen_tokens: 0 or more.");
			}
			return seenTokens;
		}

		@Nullable String validatedRunId() {
			if (runId == null) {
				return null;
			}
			return Problems.requireRunId(runId, "run_id");
		}

	}

	/**
	 * Stops all of the caller's runs, on every worker; with {@code {"conversation_ids":
	 * [...]}} only those, and the answer lists the ids that had no active run of the
	 * caller as {@code not_active}. Costs one rate-limit permit per id (or per active
	 * run), and audits only the runs it stopped: a request of a thousand unknown ids
	 * writes no thousand audit entries.
	 */
	@PostMapping("/v1/conversations/stop")
	Map<String, Object> stopAll(@AuthenticationPrincipal Jwt jwt,
			@RequestBody(required = false) @Nullable BulkStop body) throws InterruptedException {
		String userId = jwt.getSubject();
		List<String> targets = body != null && body.conversationIds() != null ? body.validated()
				: registry.active(userId).stream().map(RunRecord::conversationId).toList();
		rateLimiter.acquire(userId, targets.size(), StopRateLimiter.ALL);
		List<String> stopped = new ArrayList<>();
		List<String> pending = new ArrayList<>();
		List<String> notActive = new ArrayList<>();
		try (ExecutorService parallel = Executors.newVirtualThreadPerTaskExecutor()) {
			Map<String, Future<StopResult>> results = new LinkedHashMap<>();
			targets.forEach(
					id -> results.put(id, parallel.submit(() -> stops.stop(StopCommand.inBulk(userId, id)).result())));
			for (Map.Entry<String, Future<StopResult>> result : results.entrySet()) {
				switch (get(result.getValue())) {
					case CONFIRMED -> stopped.add(result.getKey());
					case REQUESTED -> {
						stopped.add(result.getKey());
						pending.add(result.getKey());
					}
					case NOT_FOUND, ALREADY_STOPPED, STOPPED_BEFORE -> notActive.add(result.getKey());
				}
			}
		}
		Map<String, Object> answer = new LinkedHashMap<>();
		answer.put("message", "Stopped " + stopped.size() + " active conversation(s)");
		answer.put("stopped", stopped);
		answer.put("pending", pending);
		if (body != null && body.conversationIds() != null) {
			answer.put("not_active", notActive);
		}
		return answer;
	}

	/** The optional body of a bulk stop. */
	record BulkStop(@Nullable List<String> conversationIds) {

		static final int MAX = 1000;

		List<String> validated() {
			List<String> ids = conversationIds == null ? List.of() : conversationIds;
			if (ids.size() > MAX) {
				throw Problems.of(HttpStatus.BAD_REQUEST, "conversation_ids: at most " + MAX + " ids.");
			}
			ids.forEach(Problems::requireConversationId);
			return ids.stream().distinct().toList();
		}

	}

	@GetMapping("/v1/conversations/active")
	Map<String, Object> active(@AuthenticationPrincipal Jwt jwt) {
		Map<String, ActiveConversation> active = new LinkedHashMap<>();
		registry.active(jwt.getSubject()).forEach(run -> active.put(run.conversationId(), ActiveConversation.of(run)));
		return Map.of("active_conversations", active);
	}

	private static StopResult get(Future<StopResult> future) throws InterruptedException {
		try {
			return future.get();
		}
		catch (ExecutionException ex) {
			throw new IllegalStateException("stop failed", ex.getCause());
		}
	}

	/** One entry of the active listing. */
	record ActiveConversation(String conversationId, String userId, String agentName, String startedAt, String runId,
			String state) {

		static ActiveConversation of(RunRecord run) {
			return new ActiveConversation(run.conversationId(), run.userId(), run.agentName(),
					run.since().truncatedTo(java.time.temporal.ChronoUnit.MILLIS).toString(), run.runId(),
					run.state().wireName());
		}
	}

}
