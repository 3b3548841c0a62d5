package io.stopline.gateway.system;

import java.io.IOException;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.AbstractProtocol;
import org.apache.coyote.ProtocolHandler;

import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Keeps connections free for stops. Tomcat's {@code max-connections} is one pool for
 * every kind of request: chats (streamed or not) and WebSockets hold a connection for
 * minutes, a stop for a millisecond, so a gateway full of streams would leave a stop
 * waiting in the accept queue. A request that opens a stream (a chat completion, a
 * WebSocket handshake) is therefore refused with a 503 problem detail and
 * {@code Retry-After} once the connector's open connections reach
 * {@code max-connections - stopline.gateway.connections.stream-reserve}: the last
 * {@code reserve} connections only ever serve short requests. Checked before
 * authentication, so a flood of stream requests costs no token check either.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 5)
class StreamAdmission extends OncePerRequestFilter implements TomcatConnectorCustomizer {

	private final int reserve;

	private final ProblemWriter problems;

	private volatile AbstractProtocol<?> protocol;

	StreamAdmission(ConnectionProperties properties, ProblemWriter problems) {
		this.reserve = properties.streamReserve();
		this.problems = problems;
	}

	@Override
	public void customize(Connector connector) {
		ProtocolHandler handler = connector.getProtocolHandler();
		if (handler instanceof AbstractProtocol<?> abstractProtocol && protocol == null) {
			protocol = abstractProtocol;
		}
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		if (opensStream(request) && !roomForAStream()) {
			response.setHeader(HttpHeaders.RETRY_AFTER, "5");
			problems.write(request, response, HttpStatus.SERVICE_UNAVAILABLE,
					"This gateway holds as many streams as it may; try again shortly or another gateway.", false);
			return;
		}
		chain.doFilter(request, response);
	}

	/** A request that holds its connection while a run lasts, or longer. */
	static boolean opensStream(HttpServletRequest request) {
		String path = request.getRequestURI();
		return ("POST".equals(request.getMethod()) && path.equals("/v1/chat/completions"))
				|| ("GET".equals(request.getMethod()) && path.startsWith("/v1/conversation/")
						&& path.endsWith("/stream"));
	}

	private boolean roomForAStream() {
		AbstractProtocol<?> tomcat = protocol;
		if (tomcat == null || tomcat.getMaxConnections() <= 0) {
			return true;
		}
		// the connection of this request is counted already
		return tomcat.getConnectionCount() <= tomcat.getMaxConnections() - reserve;
	}

}
