package io.stopline.gateway.stream;

import java.time.Instant;

import io.stopline.gateway.system.Problems;
import org.jspecify.annotations.Nullable;

import org.springframework.http.CacheControl;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /v1/stream-tickets}: exchanges the caller's bearer token for a ticket that
 * opens one WebSocket on one conversation ({@code ?ticket=}), so that a browser never
 * puts its long-lived token in a URL.
 */
@RestController
class StreamTicketController {

	private final StreamTickets tickets;

	private final StreamAuthProperties properties;

	StreamTicketController(StreamTickets tickets, StreamAuthProperties properties) {
		this.tickets = tickets;
		this.properties = properties;
	}

	@PostMapping("/v1/stream-tickets")
	ResponseEntity<TicketResponse> issue(@AuthenticationPrincipal Jwt jwt, @RequestBody TicketRequest request) {
		String conversation = Problems.requireConversationId(request.conversationId());
		Instant expires = jwt.getExpiresAt();
		String ticket = tickets.issue(new StreamTicket(jwt.getSubject(), conversation, expires));
		// a credential: no cache may keep it
		return ResponseEntity.ok()
			.cacheControl(CacheControl.noStore())
			.body(new TicketResponse(ticket, properties.ticketTtl().toSeconds()));
	}

	record TicketRequest(@Nullable String conversationId) {
	}

	record TicketResponse(String ticket, long expiresIn) {
	}

}
