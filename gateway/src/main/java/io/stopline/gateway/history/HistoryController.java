package io.stopline.gateway.history;

import java.util.List;
import java.util.Map;

import io.stopline.gateway.system.Problems;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.protocol.HistoryMessage;

import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /v1/conversation/{id}}: the caller's own history of a conversation. */
@RestController
class HistoryController {

	private static final int MAX_LIMIT = 200;

	private final ConversationRegistry registry;

	HistoryController(ConversationRegistry registry) {
		this.registry = registry;
	}

	/** The caller's conversations, most recently active first. */
	@GetMapping("/v1/conversations")
	Map<String, List<ConversationRegistry.ConversationSummary>> conversations(@AuthenticationPrincipal Jwt jwt,
			@RequestParam(defaultValue = "50") int limit) {
		if (limit < 1 || limit > MAX_LIMIT) {
			throw Problems.of(HttpStatus.BAD_REQUEST, "limit must be between 1 and " + MAX_LIMIT + ".");
		}
		return Map.of("conversations", registry.conversations(jwt.getSubject(), limit));
	}

	@GetMapping("/v1/conversation/{conversationId}")
	ConversationHistory history(@AuthenticationPrincipal Jwt jwt, @PathVariable String conversationId) {
		Problems.requireConversationId(conversationId);
		List<HistoryMessage> messages = registry.history(jwt.getSubject(), conversationId);
		if (messages.isEmpty()) {
			throw Problems.conversationNotFound(conversationId);
		}
		return new ConversationHistory(conversationId, messages);
	}

	record ConversationHistory(String conversationId, List<HistoryMessage> messages) {
	}

}
