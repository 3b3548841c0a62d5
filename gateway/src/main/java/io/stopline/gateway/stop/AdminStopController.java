package io.stopline.gateway.stop;

import java.util.LinkedHashMap;
import java.util.Map;

import io.stopline.gateway.system.Problems;
import io.stopline.core.run.ConversationRegistry;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Admin only ({@code /v1/admin/**} needs the admin role): list and stop any user's runs.
 * Each stop is audited with the admin as the actor and stops with reason {@code admin}.
 */
@RestController
class AdminStopController {

	private static final int MAX_USER = 128;

	private final StopService stops;

	private final ConversationRegistry registry;

	AdminStopController(StopService stops, ConversationRegistry registry) {
		this.stops = stops;
		this.registry = registry;
	}

	@GetMapping("/v1/admin/conversations/active")
	Map<String, Object> active(@RequestParam String user) {
		Map<String, StopController.ActiveConversation> active = new LinkedHashMap<>();
		registry.active(requireUser(user))
			.forEach(run -> active.put(run.conversationId(), StopController.ActiveConversation.of(run)));
		return Map.of("active_conversations", active);
	}

	@PostMapping("/v1/admin/conversation/{conversationId}/stop")
	ResponseEntity<Map<String, Object>> stop(@AuthenticationPrincipal Jwt admin, @PathVariable String conversationId,
			@RequestParam String user) {
		Problems.requireConversationId(conversationId);
		return stops.stop(StopCommand.byAdmin(admin.getSubject(), requireUser(user), conversationId))
			.answer(conversationId);
	}

	private static String requireUser(String user) {
		if (user.isBlank() || user.length() > MAX_USER || user.chars().anyMatch(Character::isISOControl)) {
			throw Problems.of(HttpStatus.BAD_REQUEST, "user: 1 to " + MAX_USER + " characters, no control characters.");
		}
		return user;
	}

}
