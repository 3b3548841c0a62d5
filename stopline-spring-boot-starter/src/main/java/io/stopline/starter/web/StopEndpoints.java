package io.stopline.starter.web;

import java.net.URI;
import java.security.Principal;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.stopline.core.schema.ConversationIds;
import io.stopline.starter.StopResult;
import io.stopline.starter.Stopline;
import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.ErrorResponseException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * Stopline's stop API on the application's own web server, for the authenticated user:
 * the application's security decides who that is ({@link Principal#getName()} is the user
 * id); this adds no security of its own. Answers as a Stopline gateway does: 200
 * confirmed, 202 requested (or stopped before it started), 404 problem when the user has
 * no active run there.
 */
@RestController
class StopEndpoints {

	private final Stopline stopline;

	StopEndpoints(Stopline stopline) {
		this.stopline = stopline;
	}

	/**
	 * Stops the conversation's active run; with {@code {"run_id": "…"}} only that run
	 * (one not started yet never starts), with {@code "seen_tokens"} the answer kept is
	 * cut to what the client displayed.
	 */
	@PostMapping("/v1/conversation/{conversationId}/stop")
	ResponseEntity<Map<String, Object>> stop(@Nullable Principal principal, @PathVariable String conversationId,
			@RequestBody(required = false) @Nullable Map<String, Object> body) {
		String userId = userOf(principal);
		requireId("conversation id", conversationId);
		String runId = body == null ? null : text(body.get("run_id"));
		if (runId != null) {
			requireId("run_id", runId);
		}
		Integer seenTokens = body == null ? null : count(body.get("seen_tokens"));
		StopResult result = stopline.stop(userId, conversationId, runId, seenTokens);
		return switch (result) {
			case CONFIRMED -> ResponseEntity.ok(message("Successfully stopped conversation " + conversationId));
			case ALREADY_STOPPED ->
				ResponseEntity.ok(message("Conversation " + conversationId + " is already stopped"));
			case REQUESTED, STOPPED_BEFORE ->
				ResponseEntity.accepted().body(message("Stop requested for conversation " + conversationId));
			case NOT_FOUND ->
				throw problem(HttpStatus.NOT_FOUND, "No active run in conversation " + conversationId + ".");
		};
	}

	/**
	 * Stops all the user's active runs on every node; with {@code {"conversation_ids":
	 * [...]}} only those, listing the ones with no active run as {@code not_active}.
	 */
	@PostMapping("/v1/conversations/stop")
	Map<String, Object> stopAll(@Nullable Principal principal,
			@RequestBody(required = false) @Nullable Map<String, Object> body) {
		String userId = userOf(principal);
		List<String> named = body == null ? null : ids(body.get("conversation_ids"));
		List<String> stopped = new ArrayList<>();
		List<String> pending = new ArrayList<>();
		List<String> notActive = new ArrayList<>();
		stopline.stopAll(userId, named).forEach((id, result) -> {
			switch (result) {
				case CONFIRMED -> stopped.add(id);
				case REQUESTED -> {
					stopped.add(id);
					pending.add(id);
				}
				case NOT_FOUND, ALREADY_STOPPED, STOPPED_BEFORE -> notActive.add(id);
			}
		});
		Map<String, Object> answer = message("Stopped " + stopped.size() + " active conversation(s)");
		answer.put("stopped", stopped);
		answer.put("pending", pending);
		if (named != null) {
			answer.put("not_active", notActive);
		}
		return answer;
	}

	/** The user's queued and running runs, on every node. */
	@GetMapping("/v1/conversations/active")
	Map<String, Object> active(@Nullable Principal principal) {
		Map<String, Object> active = new LinkedHashMap<>();
		stopline.active(userOf(principal)).forEach(run -> {
			Map<String, Object> entry = new LinkedHashMap<>();
			entry.put("conversation_id", run.conversationId());
			entry.put("agent_name", run.agentName());
			entry.put("started_at", run.since().truncatedTo(ChronoUnit.MILLIS).toString());
			entry.put("run_id", run.runId());
			entry.put("state", run.state().wireName());
			active.put(run.conversationId(), entry);
		});
		return Map.of("active_conversations", active);
	}

	/**
	 * The endpoints' own problems leave as RFC 9457 documents, whatever the application
	 * configured for its other errors.
	 */
	@ExceptionHandler(ErrorResponseException.class)
	ResponseEntity<ProblemDetail> problem(ErrorResponseException problem) {
		return ResponseEntity.status(problem.getStatusCode())
			.contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.body(problem.getBody());
	}

	private static String userOf(@Nullable Principal principal) {
		if (principal == null || principal.getName() == null || principal.getName().isBlank()) {
			throw problem(HttpStatus.UNAUTHORIZED, "Authentication required.");
		}
		return principal.getName();
	}

	private static void requireId(String name, String id) {
		if (!ConversationIds.isValid(id)) {
			throw problem(HttpStatus.BAD_REQUEST, name + ": " + ConversationIds.RULE + ".");
		}
	}

	private static @Nullable String text(@Nullable Object value) {
		if (value == null) {
			return null;
		}
		if (!(value instanceof String text)) {
			throw problem(HttpStatus.BAD_REQUEST, "run_id: a string.");
		}
		return text;
	}

	private static @Nullable Integer count(@Nullable Object value) {
		if (value == null) {
			return null;
		}
		if (!(value instanceof Integer count) || count < 0) {
			throw problem(HttpStatus.BAD_REQUEST, "seen_tokens: 0 or more.");
		}
		return count;
	}

	private static @Nullable List<String> ids(@Nullable Object value) {
		if (value == null) {
			return null;
		}
		if (!(value instanceof List<?> list) || list.size() > 1000) {
			throw problem(HttpStatus.BAD_REQUEST, "conversation_ids: a list of at most 1000 ids.");
		}
		List<String> ids = new ArrayList<>();
		for (Object id : list) {
			if (!(id instanceof String text)) {
				throw problem(HttpStatus.BAD_REQUEST, "conversation_ids: strings.");
			}
			requireId("conversation_ids", text);
			ids.add(text);
		}
		return ids;
	}

	private static Map<String, Object> message(String text) {
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("message", text);
		return body;
	}

	/** An RFC 9457 problem, whose detail says what to fix and nothing of the server. */
	private static ErrorResponseException problem(HttpStatus status, String detail) {
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
		problem.setType(URI.create("about:blank"));
		return new ErrorResponseException(status, problem, null);
	}

}
