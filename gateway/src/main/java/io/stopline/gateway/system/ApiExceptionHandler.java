package io.stopline.gateway.system;

import java.util.List;
import java.util.stream.Collectors;

import org.jspecify.annotations.Nullable;
import org.redisson.client.RedisException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

import org.springframework.dao.DataAccessException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.validation.FieldError;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/**
 * Every error is a problem detail: Spring MVC's own exceptions through the base class,
 * ours as {@link org.springframework.web.ErrorResponseException}s, and anything
 * unexpected as a 500 that names nothing of the server's internals. A bad body names the
 * field at fault, in the API's own (snake_case) names.
 */
@RestControllerAdvice
class ApiExceptionHandler extends ResponseEntityExceptionHandler {

	private static final Logger log = LoggerFactory.getLogger(ApiExceptionHandler.class);

	/**
	 * Redis unreachable, timed out or failing over (a connection closed mid-command, a
	 * master that is gone): a fact of operation, not a bug. The request changed nothing
	 * it could confirm; the client may repeat it (stops are idempotent).
	 */
	@ExceptionHandler({ DataAccessException.class, RedisException.class })
	ResponseEntity<ProblemDetail> redisUnavailable(RuntimeException ex) {
		return RedisUnavailable.problem(ex);
	}

	/**
	 * Anything else: a 500, unless a Redis failure hides inside it (a wrapped timeout).
	 */
	@ExceptionHandler(Exception.class)
	ResponseEntity<ProblemDetail> unexpected(Exception ex) {
		if (RedisUnavailable.isCause(ex)) {
			return RedisUnavailable.problem(ex);
		}
		log.error("request failed", ex);
		return ResponseEntity.internalServerError()
			.body(ProblemDetail.forStatusAndDetail(HttpStatus.INTERNAL_SERVER_ERROR,
					"The request could not be handled."));
	}

	@Override
	protected @Nullable ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException ex,
			HttpHeaders headers, HttpStatusCode status, WebRequest request) {
		if (causedBy(ex,
				BodySizeLimit.BodyTooLargeException.class) instanceof BodySizeLimit.BodyTooLargeException big) {
			return problem(HttpStatus.CONTENT_TOO_LARGE, big.getMessage());
		}
		return problem(HttpStatus.BAD_REQUEST, unreadable(ex));
	}

	@Override
	protected @Nullable ResponseEntity<Object> handleMethodArgumentNotValid(MethodArgumentNotValidException ex,
			HttpHeaders headers, HttpStatusCode status, WebRequest request) {
		List<FieldError> errors = ex.getBindingResult().getFieldErrors();
		String detail = errors.isEmpty() ? "The request body is invalid."
				: errors.stream()
					.map(error -> snakeCase(error.getField()) + ": " + error.getDefaultMessage())
					.sorted()
					.collect(Collectors.joining("; ")) + ".";
		return problem(HttpStatus.BAD_REQUEST, detail);
	}

	private static String unreadable(HttpMessageNotReadableException ex) {
		Throwable cause = ex.getCause();
		if (cause == null) {
			return "A JSON body is required.";
		}
		if (cause instanceof UnrecognizedPropertyException unknown) {
			return path(unknown) + ": unknown field.";
		}
		if (cause instanceof MismatchedInputException mismatch) {
			String field = path(mismatch);
			String expected = mismatch.getTargetType() == null ? "another value" : expected(mismatch.getTargetType());
			return (field.isEmpty() ? "The body" : field) + ": expected " + expected + ".";
		}
		if (cause instanceof StreamReadException malformed && malformed.getLocation() != null) {
			return "The body is not valid JSON (line " + malformed.getLocation().getLineNr() + ", column "
					+ malformed.getLocation().getColumnNr() + ").";
		}
		if (cause instanceof JacksonException json && !path(json).isEmpty()) {
			return path(json) + ": invalid value.";
		}
		return "The body is not valid JSON.";
	}

	private static String expected(Class<?> type) {
		if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
			return "an integer";
		}
		if (type == Boolean.class || type == boolean.class) {
			return "true or false";
		}
		if (type == String.class) {
			return "a string";
		}
		if (List.class.isAssignableFrom(type) || type.isArray()) {
			return "an array";
		}
		if (type.isEnum()) {
			return "one of " + java.util.Arrays.toString(type.getEnumConstants());
		}
		return "an object";
	}

	/** {@code messages[0].content}, from the JSON names of the path. */
	private static String path(JacksonException ex) {
		StringBuilder path = new StringBuilder();
		for (JacksonException.Reference reference : ex.getPath()) {
			if (reference.getPropertyName() != null) {
				if (!path.isEmpty()) {
					path.append('.');
				}
				path.append(reference.getPropertyName());
			}
			else if (reference.getIndex() >= 0) {
				path.append('[').append(reference.getIndex()).append(']');
			}
		}
		return path.toString();
	}

	private static String snakeCase(String field) {
		return field.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
	}

	private static @Nullable Throwable causedBy(Throwable ex, Class<? extends Throwable> type) {
		for (Throwable cause = ex; cause != null; cause = cause.getCause()) {
			if (type.isInstance(cause)) {
				return cause;
			}
		}
		return null;
	}

	private static ResponseEntity<Object> problem(HttpStatus status, String detail) {
		return ResponseEntity.status(status).body(ProblemDetail.forStatusAndDetail(status, detail));
	}

}
