package io.stopline.gateway.page;

import java.util.List;
import java.util.Map;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /v1/agents}: the configured agents, so that the page offers a choice instead
 * of a free-text field, each with the most {@code max_tokens} a chat may ask of it.
 */
@RestController
class AgentsController {

	private final List<Map<String, Object>> agents;

	AgentsController(AgentProperties properties) {
		this.agents = properties.names()
			.stream()
			.map(name -> Map.<String, Object>of("name", name, "max_tokens", properties.maxTokensOf(name)))
			.toList();
	}

	@GetMapping("/v1/agents")
	Map<String, Object> agents() {
		return Map.of("agents", agents);
	}

}
