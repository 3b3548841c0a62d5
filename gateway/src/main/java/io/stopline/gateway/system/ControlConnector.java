package io.stopline.gateway.system;

import java.io.IOException;
import java.util.OptionalInt;
import java.util.regex.Pattern;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import io.stopline.core.threads.ControlThreads;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.AbstractProtocol;
import org.apache.coyote.http11.Http11NioProtocol;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.tomcat.autoconfigure.TomcatServerProperties;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The control port ({@code stopline.gateway.connections.control-port}): a second Tomcat
 * connector that serves only stops, the active listing and the probes, on its own
 * platform threads. On the API port a request is dispatched to a virtual thread, whose
 * scheduler also runs every stream's wake-ups, after every request that came before it: a
 * burst of sends or hundreds of streaming chats put a stop behind them. Here a stop has a
 * connection pool, an acceptor and threads of its own, and the operating system wakes
 * them. A load balancer routes the stop paths to this port; everything else on it is
 * answered 404.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 4)
public class ControlConnector extends OncePerRequestFilter
		implements WebServerFactoryCustomizer<TomcatServletWebServerFactory> {

	/** What the control port serves: the three stop endpoints and the probes. */
	private static final Pattern SERVED = Pattern.compile(
			"POST /v1/conversation/[^/]+/stop|POST /v1/conversations/stop|GET /v1/conversations/active|GET /livez|GET /readyz");

	private final @Nullable Integer port;

	private final int threads;

	private final int acceptCount;

	private final ProblemWriter problems;

	private volatile @Nullable Connector connector;

	ControlConnector(ConnectionProperties properties, TomcatServerProperties tomcat, ProblemWriter problems) {
		this.port = properties.controlPort();
		this.threads = properties.controlThreads();
		// the API port's backlog (server.tomcat.accept-count): a burst of stops on new
		// connections beyond it loses their handshakes for a second's retransmission
		this.acceptCount = tomcat.getAcceptCount();
		this.problems = problems;
	}

	@Override
	public void customize(TomcatServletWebServerFactory factory) {
		if (port == null) {
			return;
		}
		Connector control = new Connector(TomcatServletWebServerFactory.DEFAULT_PROTOCOL);
		control.setPort(port);
		if (control.getProtocolHandler() instanceof AbstractProtocol<?> protocol) {
			// Tomcat's own pool of platform threads (the API port's virtual threads are
			// set on the primary connector only)
			protocol.setMaxThreads(threads);
			protocol.setMinSpareThreads(Math.min(4, threads));
			// ahead of the sends and the streams for a core (ControlThreads)
			protocol.setThreadPriority(ControlThreads.PRIORITY);
			protocol.setAcceptorThreadPriority(ControlThreads.PRIORITY);
			protocol.setMaxConnections(1024);
			protocol.setAcceptCount(acceptCount);
		}
		if (control.getProtocolHandler() instanceof Http11NioProtocol nio) {
			nio.setPollerThreadPriority(ControlThreads.PRIORITY);
		}
		factory.addAdditionalConnectors(control);
		connector = control;
	}

	/** The control port once listening; empty when there is none. */
	public OptionalInt port() {
		Connector control = connector;
		return control == null || control.getLocalPort() <= 0 ? OptionalInt.empty()
				: OptionalInt.of(control.getLocalPort());
	}

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		Connector control = connector;
		return control == null || request.getLocalPort() != control.getLocalPort();
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		if (!SERVED.matcher(request.getMethod() + " " + request.getRequestURI()).matches()) {
			problems.write(request, response, HttpStatus.NOT_FOUND,
					"This port serves stops, the active listing and the probes only; use the API port.", false);
			return;
		}
		chain.doFilter(request, response);
	}

}
