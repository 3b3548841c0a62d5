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
import io.stopline.registry.ConversationRegistry;
import io.stopline.registry.RunRecord;

import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.ErrorResponseException;

/**
 * The stop API: stop one conversation, stop all of the caller's, list the caller's active
 * runs.
 */
@RestController
class StopController {

	private final StopService stops;

	private final ConversationRegistry registry;

	private final StopRateLimiter rateLimiter;

	private final StopMetrics metrics;

	StopController(StopService stops, ConversationRegistry registry, StopRateLimiter rateLimiter, StopMetrics metrics) {
		this.stops = stops;
		this.registry = registry;
		this.rateLimiter = rateLimiter;
		this.metrics = metrics;
	}

	private void limit(String userId, String endpoint) {
		long started = System.nanoTime();
		try {
			rateLimiter.acquire(userId);
		}
		catch (ErrorResponseException limited) {
			metrics.record(endpoint, "rate_limited", System.nanoTime() - started);
			throw limited;
		}
	}

	@PostMapping("/v1/conversation/{conversationId}/stop")
	ResponseEntity<Map<String, String>> stop(@AuthenticationPrincipal Jwt jwt, @PathVariable String conversationId) {
		Problems.requireConversationId(conversationId);
		limit(jwt.getSubject(), "single");
		return switch (stops.stop(jwt.getSubject(), conversationId, "user")) {
			case CONFIRMED -> ResponseEntity.ok(message("Successfully stopped conversation " + conversationId));
			case REQUESTED ->
				ResponseEntity.accepted().body(message("Stop requested for conversation " + conversationId));
			case ALREADY_STOPPED ->
				ResponseEntity.ok(message("Conversation " + conversationId + " is already stopped"));
			case NOT_FOUND -> throw Problems.noActiveRun(conversationId);
		};
	}

	@PostMapping("/v1/conversations/stop")
	Map<String, Object> stopAll(@AuthenticationPrincipal Jwt jwt) throws InterruptedException {
		String userId = jwt.getSubject();
		limit(userId, "all");
		List<RunRecord> runs = registry.active(userId);
		List<String> stopped = new ArrayList<>();
		List<String> pending = new ArrayList<>();
		try (ExecutorService parallel = Executors.newVirtualThreadPerTaskExecutor()) {
			Map<String, Future<StopResult>> results = new LinkedHashMap<>();
			runs.forEach(run -> results.put(run.conversationId(),
					parallel.submit(() -> stops.stop(userId, run.conversationId(), "stop_all"))));
			for (Map.Entry<String, Future<StopResult>> result : results.entrySet()) {
				StopResult outcome = get(result.getValue());
				if (outcome == StopResult.CONFIRMED || outcome == StopResult.REQUESTED) {
					stopped.add(result.getKey());
				}
				if (outcome == StopResult.REQUESTED) {
					pending.add(result.getKey());
				}
			}
		}
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("message", "Stopped " + stopped.size() + " active conversation(s)");
		body.put("stopped", stopped);
		body.put("pending", pending);
		return body;
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

	private static Map<String, String> message(String text) {
		return Map.of("message", text);
	}

	/** One entry of the active listing. */
	record ActiveConversation(String conversationId, String userId, String agentName, String startedAt, String runId,
			String state) {

		static ActiveConversation of(RunRecord run) {
			return new ActiveConversation(run.conversationId(), run.userId(), run.agentName(),
					run.since().truncatedTo(java.time.temporal.ChronoUnit.MILLIS).toString(), run.runId(), run.state());
		}
	}

}
