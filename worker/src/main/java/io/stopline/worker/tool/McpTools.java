package io.stopline.worker.tool;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.modelcontextprotocol.spec.McpSchema;
import io.stopline.worker.model.ToolDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;

/**
 * The configured MCP servers, and the tools each agent may use: what the model is
 * offered, and the only calls that are made.
 */
@Component
class McpTools implements AutoCloseable {

	private static final Logger log = LoggerFactory.getLogger(McpTools.class);

	private final Map<String, McpServerConnection> servers = new LinkedHashMap<>();

	private final ToolProperties properties;

	McpTools(ToolProperties properties) {
		this.properties = properties;
		properties.servers().forEach((name, server) -> {
			servers.put(name, new McpServerConnection(name, server));
			log.info("MCP server {} over {}", name, server.transport().name().toLowerCase(java.util.Locale.ROOT));
		});
	}

	/**
	 * The tools offered to the agent. A server that cannot be reached leaves its tools
	 * out (logged); the run goes on without them.
	 */
	List<Binding> offered(String agent) {
		ToolProperties.Agent allowed = properties.agents().get(agent);
		if (allowed == null) {
			return List.of();
		}
		List<Binding> offered = new ArrayList<>();
		servers.values().stream().filter(server -> allowed.uses(server.name())).forEach(server -> {
			try {
				server.tools()
					.stream()
					.filter(tool -> allowed.allows(server.name(), tool.name()))
					.forEach(tool -> offered.add(Binding.of(server, tool)));
			}
			catch (RuntimeException ex) {
				log.warn("the tools of MCP server {} are not available: {}", server.name(),
						ex.getClass().getSimpleName());
			}
		});
		return offered;
	}

	static Optional<Binding> find(List<Binding> offered, String name) {
		return offered.stream().filter(binding -> binding.definition().name().equals(name)).findFirst();
	}

	@Override
	public void close() {
		servers.values().forEach(McpServerConnection::close);
	}

	/**
	 * A tool of a server as the model sees it: {@code <server>__<tool>}, so two servers'
	 * tools of one name stay apart.
	 */
	record Binding(McpServerConnection server, String tool, ToolDefinition definition) {

		static Binding of(McpServerConnection server, McpSchema.Tool tool) {
			String name = (server.name() + "__" + tool.name()).replaceAll("[^a-zA-Z0-9_-]", "_");
			String description = tool.description() != null ? tool.description() : tool.name();
			return new Binding(server, tool.name(), new ToolDefinition(
					name.length() > 64 ? name.substring(0, 64) : name, description, tool.inputSchema()));
		}

	}

}
