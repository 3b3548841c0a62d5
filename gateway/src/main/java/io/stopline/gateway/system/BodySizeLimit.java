package io.stopline.gateway.system;

import java.io.IOException;

import io.stopline.gateway.GatewayProperties;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Refuses request bodies over {@code stopline.gateway.max-request-bytes} with a 413
 * problem detail: at once when {@code Content-Length} says so, and while reading for a
 * chunked body (the read fails, and the JSON reader turns that into the same 413). Runs
 * before authentication, so nobody can make the gateway buffer a large body.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 10)
class BodySizeLimit extends OncePerRequestFilter {

	private final long maxBytes;

	private final ProblemWriter problems;

	BodySizeLimit(GatewayProperties properties, ProblemWriter problems) {
		this.maxBytes = properties.maxRequestBytes();
		this.problems = problems;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		if (request.getContentLengthLong() > maxBytes) {
			problems.write(request, response, HttpStatus.CONTENT_TOO_LARGE, tooLarge(), false);
			return;
		}
		chain.doFilter(request.getContentLengthLong() >= 0 ? request : new Limited(request), response);
	}

	private String tooLarge() {
		return "The request body is larger than " + maxBytes + " bytes.";
	}

	/** A body of unknown length, counted as it is read. */
	private final class Limited extends HttpServletRequestWrapper {

		private Limited(HttpServletRequest request) {
			super(request);
		}

		@Override
		public ServletInputStream getInputStream() throws IOException {
			ServletInputStream in = super.getInputStream();
			return new ServletInputStream() {

				private long read;

				@Override
				public int read() throws IOException {
					int b = in.read();
					if (b >= 0) {
						count(1);
					}
					return b;
				}

				@Override
				public int read(byte[] buffer, int offset, int length) throws IOException {
					int n = in.read(buffer, offset, length);
					if (n > 0) {
						count(n);
					}
					return n;
				}

				private void count(int n) throws IOException {
					read += n;
					if (read > maxBytes) {
						throw new BodyTooLargeException(tooLarge());
					}
				}

				@Override
				public boolean isFinished() {
					return in.isFinished();
				}

				@Override
				public boolean isReady() {
					return in.isReady();
				}

				@Override
				public void setReadListener(ReadListener listener) {
					in.setReadListener(listener);
				}
			};
		}

	}

	/** A chunked body went over the limit while being read. */
	static final class BodyTooLargeException extends IOException {

		BodyTooLargeException(String message) {
			super(message);
		}

	}

}
