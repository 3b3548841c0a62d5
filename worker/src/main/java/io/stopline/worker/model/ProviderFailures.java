package io.stopline.worker.model;

import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

import com.anthropic.errors.AnthropicInvalidDataException;
import com.anthropic.errors.AnthropicServiceException;
import com.openai.errors.OpenAIInvalidDataException;
import com.openai.errors.OpenAIServiceException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.core.codec.DecodingException;
import org.springframework.web.reactive.function.client.WebClientResponseException;

/**
 * Turns what a provider's client throws into a {@link ModelFailure} with a message for
 * the user, the same for every provider; the details go to the log.
 */
final class ProviderFailures {

	private static final Logger log = LoggerFactory.getLogger(ProviderFailures.class);

	private ProviderFailures() {
	}

	static ModelFailure of(Throwable error, Duration readTimeout) {
		if (error instanceof ModelFailure failure) {
			return failure;
		}
		int status = status(error);
		if (status > 0) {
			log.warn("model provider answered HTTP {}: {}", status, error.getMessage());
			return new ModelFailure("The model provider answered HTTP " + status + ".", error);
		}
		log.warn("model provider failed: {}", error.toString());
		for (Throwable cause = error; cause != null; cause = cause.getCause()) {
			if (cause instanceof ConnectException || cause instanceof HttpConnectTimeoutException) {
				return new ModelFailure("The model provider could not be reached.", error);
			}
			if (cause instanceof SocketTimeoutException || cause instanceof HttpTimeoutException) {
				return new ModelFailure("The model provider did not answer within " + readTimeout + ".", error);
			}
			if (malformed(cause)) {
				return new ModelFailure("The model provider sent a malformed stream.", error);
			}
		}
		return new ModelFailure("The connection to the model provider failed.", error);
	}

	private static int status(Throwable error) {
		for (Throwable cause = error; cause != null; cause = cause.getCause()) {
			int status = switch (cause) {
				case OpenAIServiceException openai -> openai.statusCode();
				case AnthropicServiceException anthropic -> anthropic.statusCode();
				case WebClientResponseException web -> web.getStatusCode().value();
				default -> -1;
			};
			if (status > 0) {
				return status;
			}
		}
		return -1;
	}

	private static boolean malformed(Throwable cause) {
		return cause instanceof OpenAIInvalidDataException || cause instanceof AnthropicInvalidDataException
				|| cause instanceof DecodingException || cause instanceof tools.jackson.core.JacksonException
				|| cause instanceof com.fasterxml.jackson.core.JacksonException;
	}

}
