package io.stopline.worker.model;

/**
 * A tool call the model asked for.
 *
 * @param id the model's {@code tool_call_id}
 * @param name the tool's name
 * @param arguments the arguments as JSON text, as the model wrote them
 */
public record ToolRequest(String id, String name, String arguments) {
}
