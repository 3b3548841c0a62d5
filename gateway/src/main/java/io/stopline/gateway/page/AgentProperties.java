package io.stopline.gateway.page;

import java.util.List;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code stopline.agents.*}: the agents a client may name as a chat's {@code model}. The
 * workers decide what an agent runs on ({@code stopline.model.agents.<name>.*}, else the
 * simulated model); this list is what the page offers, so it should name the workers'
 * agents.
 *
 * @param names the agents, the first one the default
 * @param maxTokens the most output tokens ({@code max_tokens}) a chat may ask of each
 * agent, e.g. {@code stopline.agents.max-tokens.gpt=128000}; a larger request is refused
 * with 400
 * @param maxTokensDefault the limit of an agent without one of its own: the simulated
 * model's (32,768 tokens, about 11 minutes at its default speed)
 */
@ConfigurationProperties("stopline.agents")
public record AgentProperties(@DefaultValue("assistant") List<String> names,
		@DefaultValue Map<String, Integer> maxTokens, @DefaultValue("32768") int maxTokensDefault) {

	public AgentProperties {
		maxTokens = maxTokens == null ? Map.of() : Map.copyOf(maxTokens);
		maxTokens.forEach((agent, limit) -> {
			if (limit < 1) {
				throw new IllegalArgumentException("stopline.agents.max-tokens." + agent + " must be at least 1");
			}
		});
	}

	/** The most {@code max_tokens} a chat may ask of {@code agent}. */
	public int maxTokensOf(String agent) {
		return maxTokens.getOrDefault(agent, maxTokensDefault);
	}

}
