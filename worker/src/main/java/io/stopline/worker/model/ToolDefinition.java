package io.stopline.worker.model;

import java.util.Map;

/**
 * A tool offered to the model (an OpenAI {@code function} tool).
 *
 * @param name the name the model calls it by
 * @param description what it does, for the model
 * @param parameters its arguments' JSON schema
 */
public record ToolDefinition(String name, String description, Map<String, Object> parameters) {

	public ToolDefinition {
		parameters = Map.copyOf(parameters);
	}

}
