package io.stopline.gateway.stream;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.stopline.core.schema.ConversationIds;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.dao.DataAccessException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.stereotype.Component;
import org.springframework.util.MultiValueMap;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.server.HandshakeInterceptor;
import org.springframework.web.util.UriComponentsBuilder;
import org.springframework.web.util.UriUtils;

/**
 * Authenticates a WebSocket handshake, in this order: a {@code ticket} query parameter
 * (from {@code POST /v1/stream-tickets}: single use, for this conversation only), the
 * bearer header (clients that can set one), and, only where
 * {@code stopline.stream.allow-query-token} is on (the {@code dev} profile), a JWT in the
 * {@code token} query parameter. The handshake itself always succeeds: a refused caller
 * is answered on the socket, with close code 1008 (policy violation) before anything is
 * sent, the one failure a browser's WebSocket API lets the page see.
 */
@Component
class StreamAuthInterceptor implements HandshakeInterceptor {

	static final String USER = "stopline.user";

	static final String CONVERSATION = "stopline.conversation";

	/** When the token expires: the socket closes then. */
	static final String EXPIRES = "stopline.expires";

	/** The path this endpoint serves; the bearer filter leaves it to this interceptor. */
	static final Pattern PATH = Pattern.compile("^/v1/conversation/([^/]+)/stream$");

	private static final Logger log = LoggerFactory.getLogger(StreamAuthInterceptor.class);

	private final JwtDecoder jwtDecoder;

	private final StreamTickets tickets;

	private final StreamAuthProperties properties;

	StreamAuthInterceptor(JwtDecoder jwtDecoder, StreamTickets tickets, StreamAuthProperties properties) {
		this.jwtDecoder = jwtDecoder;
		this.tickets = tickets;
		this.properties = properties;
	}

	@Override
	public boolean beforeHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler handler,
			Map<String, Object> attributes) {
		Matcher path = PATH.matcher(request.getURI().getRawPath());
		String conversation = path.matches() && ConversationIds.isValid(path.group(1)) ? path.group(1) : null;
		if (conversation != null) {
			attributes.put(CONVERSATION, conversation);
		}
		Caller caller;
		try {
			caller = caller(request, conversation);
		}
		catch (DataAccessException ex) {
			// the ticket cannot be checked: not a refusal, the client may retry
			log.warn("stream ticket not checked: {}", ex.toString());
			response.setStatusCode(HttpStatus.SERVICE_UNAVAILABLE);
			return false;
		}
		if (caller != null) {
			attributes.put(USER, caller.user());
			if (caller.expires() != null) {
				attributes.put(EXPIRES, caller.expires());
			}
		}
		return true;
	}

	/** Who opens this socket, or null when the handshake proves nobody. */
	private @Nullable Caller caller(ServerHttpRequest request, @Nullable String conversation) {
		MultiValueMap<String, String> query = UriComponentsBuilder.fromUri(request.getURI()).build().getQueryParams();
		String ticket = first(query, "ticket");
		if (ticket != null) {
			// taken (used up) even when it names another conversation: a ticket is never
			// tried twice
			return tickets.take(ticket)
				.filter(taken -> taken.conversation().equals(conversation))
				.map(taken -> new Caller(taken.user(), taken.expires()))
				.orElse(null);
		}
		String header = request.getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
		if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
			return fromJwt(header.substring(7).strip());
		}
		String token = first(query, "token");
		if (token != null && properties.allowQueryToken()) {
			return fromJwt(token);
		}
		return null;
	}

	private @Nullable Caller fromJwt(String token) {
		try {
			Jwt jwt = jwtDecoder.decode(token);
			return new Caller(jwt.getSubject(), jwt.getExpiresAt());
		}
		catch (JwtException ex) {
			return null;
		}
	}

	private static @Nullable String first(MultiValueMap<String, String> query, String name) {
		List<String> values = query.get(name);
		if (values == null || values.isEmpty() || values.get(0) == null) {
			return null;
		}
		return UriUtils.decode(values.get(0), StandardCharsets.UTF_8);
	}

	/** An authenticated caller, until its token expires. */
	private record Caller(String user, @Nullable Instant expires) {
	}

	@Override
	public void afterHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler handler,
			@Nullable Exception exception) {
	}

}
