package io.stopline.gateway.stream;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.stopline.registry.ConversationIds;
import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpHeaders;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.stereotype.Component;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.server.HandshakeInterceptor;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * Authenticates a WebSocket handshake by the bearer header or, since browsers cannot set
 * headers on a WebSocket, by a {@code token} query parameter. The handshake itself always
 * succeeds: a bad token or conversation is answered on the socket, with close code 1008
 * (policy violation), the one failure a browser's WebSocket API lets the page see.
 */
@Component
class StreamAuthInterceptor implements HandshakeInterceptor {

	static final String USER = "stopline.user";

	static final String CONVERSATION = "stopline.conversation";

	/** When the token expires: the socket closes then. */
	static final String EXPIRES = "stopline.expires";

	/** The path this endpoint serves; the bearer filter leaves it to this interceptor. */
	static final Pattern PATH = Pattern.compile("^/v1/conversation/([^/]+)/stream$");

	private final JwtDecoder jwtDecoder;

	StreamAuthInterceptor(JwtDecoder jwtDecoder) {
		this.jwtDecoder = jwtDecoder;
	}

	@Override
	public boolean beforeHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler handler,
			Map<String, Object> attributes) {
		Jwt jwt = jwt(request);
		if (jwt != null) {
			attributes.put(USER, jwt.getSubject());
			if (jwt.getExpiresAt() != null) {
				attributes.put(EXPIRES, jwt.getExpiresAt());
			}
		}
		Matcher path = PATH.matcher(request.getURI().getRawPath());
		if (path.matches() && ConversationIds.isValid(path.group(1))) {
			attributes.put(CONVERSATION, path.group(1));
		}
		return true;
	}

	private @Nullable Jwt jwt(ServerHttpRequest request) {
		String token = token(request);
		if (token == null) {
			return null;
		}
		try {
			return jwtDecoder.decode(token);
		}
		catch (JwtException ex) {
			return null;
		}
	}

	private static @Nullable String token(ServerHttpRequest request) {
		String header = request.getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
		if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
			return header.substring(7).strip();
		}
		List<String> query = UriComponentsBuilder.fromUri(request.getURI()).build().getQueryParams().get("token");
		return query == null || query.isEmpty() ? null : query.get(0);
	}

	@Override
	public void afterHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler handler,
			@Nullable Exception exception) {
	}

}
