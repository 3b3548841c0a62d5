package io.stopline.worker.tool;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code stopline.tools.*}: the MCP servers agents may call, and which of their tools
 * each agent may use. An agent with no entry has no tools.
 *
 * <pre>
 * stopline.tools.servers.files.transport=stdio
 * stopline.tools.servers.files.command=npx
 * stopline.tools.servers.files.args=-y,@modelcontextprotocol/server-filesystem,/srv/docs
 * stopline.tools.servers.search.url=http://localhost:8931/mcp
 * stopline.tools.servers.search.call-timeout=20s
 * stopline.tools.servers.search.on-failure=end-run
 * stopline.tools.agents.assistant.allowed=files.read_file,search.*
 * </pre>
 *
 * @param servers the MCP servers by name
 * @param agents each agent's allow-list
 * @param maxRounds the most model turns that end in tool calls in one run; the next
 * turn's calls fail the run
 */
@ConfigurationProperties("stopline.tools")
public record ToolProperties(Map<String, Server> servers, Map<String, Agent> agents, @DefaultValue("8") int maxRounds) {

	public ToolProperties {
		servers = servers == null ? Map.of() : Map.copyOf(servers);
		agents = agents == null ? Map.of() : Map.copyOf(agents);
	}

	/** How the worker reaches a server. */
	public enum Transport {

		/** MCP Streamable HTTP at {@code url} */
		HTTP,
		/** a local command speaking MCP on its stdin and stdout */
		STDIO

	}

	/** What a failed or timed-out tool call does to the run. */
	public enum OnFailure {

		/** the model gets an error result and goes on */
		ERROR_RESULT,
		/** the run ends as failed */
		END_RUN

	}

	/**
	 * One MCP server.
	 *
	 * @param transport {@code http} (Streamable HTTP) or {@code stdio}
	 * @param url the MCP endpoint, for {@code http}
	 * @param command the command to start, for {@code stdio}
	 * @param args its arguments
	 * @param env extra environment variables of the command
	 * @param callTimeout a tool call's deadline; past it the call is cancelled and counts
	 * as failed ({@code timed_out})
	 * @param connectTimeout to connect and initialize the session
	 * @param onFailure what a failed or timed-out call does
	 */
	public record Server(@DefaultValue("http") Transport transport, @Nullable URI url, @Nullable String command,
			List<String> args, Map<String, String> env, @DefaultValue("30s") Duration callTimeout,
			@DefaultValue("10s") Duration connectTimeout, @DefaultValue("error-result") OnFailure onFailure) {

		public Server {
			args = args == null ? List.of() : List.copyOf(args);
			env = env == null ? Map.of() : Map.copyOf(env);
			if (transport == Transport.HTTP && url == null) {
				throw new IllegalArgumentException("an http MCP server needs a url");
			}
			if (transport == Transport.STDIO && (command == null || command.isBlank())) {
				throw new IllegalArgumentException("a stdio MCP server needs a command");
			}
		}

	}

	/**
	 * An agent's tools.
	 *
	 * @param allowed {@code <server>.<tool>}, or {@code <server>.*} for all of a server's
	 * tools; nothing else is offered to the model, and a call of anything else is refused
	 */
	public record Agent(List<String> allowed) {

		public Agent {
			allowed = allowed == null ? List.of() : List.copyOf(allowed);
		}

		boolean allows(String server, String tool) {
			return allowed.contains(server + "." + tool) || allowed.contains(server + ".*");
		}

		boolean uses(String server) {
			return allowed.stream().anyMatch(entry -> entry.startsWith(server + "."));
		}

	}

}
