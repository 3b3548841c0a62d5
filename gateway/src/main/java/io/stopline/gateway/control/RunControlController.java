package io.stopline.gateway.control;

import io.stopline.protocol.RunState;
import java.util.Map;

import io.stopline.gateway.stop.StopRateLimiter;
import io.stopline.gateway.system.Problems;
import io.stopline.protocol.RunControl;

import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /v1/conversation/{id}/pause} and {@code /resume}: 200 once the owner
 * confirms (repeating either is harmless), 202 when the confirmation did not come in
 * time, 404 when the caller has no active run there, 409 while the run is still queued.
 * Counted against the same per-user limit as stops.
 */
@RestController
class RunControlController {

	private final RunControlService controls;

	private final StopRateLimiter rateLimiter;

	RunControlController(RunControlService controls, StopRateLimiter rateLimiter) {
		this.controls = controls;
		this.rateLimiter = rateLimiter;
	}

	@PostMapping("/v1/conversation/{conversationId}/pause")
	ResponseEntity<Map<String, String>> pause(@AuthenticationPrincipal Jwt jwt, @PathVariable String conversationId) {
		return send(jwt, conversationId, RunControl.PAUSE);
	}

	@PostMapping("/v1/conversation/{conversationId}/resume")
	ResponseEntity<Map<String, String>> resume(@AuthenticationPrincipal Jwt jwt, @PathVariable String conversationId) {
		return send(jwt, conversationId, RunControl.RESUME);
	}

	private ResponseEntity<Map<String, String>> send(Jwt jwt, String conversationId, String action) {
		Problems.requireConversationId(conversationId);
		rateLimiter.acquire(jwt.getSubject());
		boolean pause = RunControl.PAUSE.equals(action);
		return switch (controls.send(jwt.getSubject(), conversationId, action)) {
			case DONE ->
				ResponseEntity.ok(Map.of("message", (pause ? "Paused" : "Resumed") + " conversation " + conversationId,
						"state", (pause ? RunState.PAUSED : RunState.RUNNING).wireName()));
			case REQUESTED -> ResponseEntity.accepted()
				.body(Map.of("message",
						(pause ? "Pause" : "Resume") + " requested for conversation " + conversationId));
		};
	}

}
