package io.stopline.worker.model;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code stopline.model.*}: the agents backed by an OpenAI-compatible upstream. An agent
 * name not listed here runs on the simulated model.
 *
 * <pre>
 * stopline.model.agents.gpt.base-url=https://api.openai.com/v1
 * stopline.model.agents.gpt.api-key=${OPENAI_API_KEY}
 * stopline.model.agents.gpt.model=gpt-4o-mini
 * </pre>
 */
@ConfigurationProperties("stopline.model")
record ModelProperties(Map<String, Upstream> agents) {

	ModelProperties {
		agents = agents == null ? Map.of() : Map.copyOf(agents);
	}

	/**
	 * One upstream agent.
	 *
	 * @param baseUrl the API root, e.g. {@code http://localhost:11434/v1} for Ollama;
	 * {@code /chat/completions} is appended
	 * @param apiKey sent as a bearer token when set (never logged)
	 * @param model the upstream model name
	 * @param connectTimeout to open the connection
	 * @param readTimeout the longest wait for the response headers or for the next bytes
	 * of the stream; a stall past it fails the run
	 */
	record Upstream(URI baseUrl, @Nullable String apiKey, String model, @DefaultValue("5s") Duration connectTimeout,
			@DefaultValue("60s") Duration readTimeout) {
	}

}
