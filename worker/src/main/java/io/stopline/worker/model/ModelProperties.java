package io.stopline.worker.model;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code stopline.model.*}: the agents backed by an upstream provider. An agent name not
 * listed here runs on the simulated model.
 *
 * <pre>
 * stopline.model.agents.gpt.base-url=https://api.openai.com/v1
 * stopline.model.agents.gpt.api-key=${OPENAI_API_KEY}
 * stopline.model.agents.gpt.model=gpt-4o-mini
 * stopline.model.agents.claude.provider=anthropic
 * stopline.model.agents.claude.base-url=https://api.anthropic.com
 * stopline.model.agents.claude.model=claude-sonnet-4-5
 * </pre>
 */
@ConfigurationProperties("stopline.model")
record ModelProperties(Map<String, Upstream> agents) {

	ModelProperties {
		agents = agents == null ? Map.of() : Map.copyOf(agents);
	}

	/** The wire protocol an agent's upstream speaks. */
	enum Provider {

		/** OpenAI chat completions; also vLLM, llama.cpp server and other compatibles. */
		OPENAI,

		/** Ollama's own {@code /api/chat}. */
		OLLAMA,

		/** Anthropic Messages. */
		ANTHROPIC

	}

	/**
	 * One upstream agent.
	 *
	 * @param provider the upstream's protocol
	 * @param baseUrl the API root: for {@code openai} e.g.
	 * {@code https://api.openai.com/v1} ({@code /chat/completions} is appended); for
	 * {@code ollama} {@code http://localhost:11434}; for {@code anthropic}
	 * {@code https://api.anthropic.com}
	 * @param apiKey sent as a bearer token when set (never logged)
	 * @param model the upstream model name
	 * @param connectTimeout to open the connection
	 * @param readTimeout the longest wait for the response headers or for the next bytes
	 * of the stream; a stall past it fails the run
	 */
	record Upstream(@DefaultValue("openai") Provider provider, URI baseUrl, @Nullable String apiKey, String model,
			@DefaultValue("5s") Duration connectTimeout, @DefaultValue("60s") Duration readTimeout) {
	}

}
