package io.stopline.worker.model;

import java.net.http.HttpClient;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.stopline.protocol.StartRun;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.annotation.Primary;
import org.springframework.stereotype.Component;

/**
 * Picks the model of a run by its agent name: an upstream from
 * {@code stopline.model.agents}, else the simulated model.
 */
@Component
@Primary
class AgentModels implements ChatModel {

	private static final Logger log = LoggerFactory.getLogger(AgentModels.class);

	private final Map<String, ChatModel> upstreams = new LinkedHashMap<>();

	private final SimulatedModel simulated;

	AgentModels(ModelProperties properties, SimulatedModel simulated) {
		this.simulated = simulated;
		properties.agents().forEach((name, upstream) -> {
			upstreams.put(name, model(upstream));
			log.info("agent {} streams from {} {} (model {})", name, upstream.provider(), upstream.baseUrl(),
					upstream.model());
		});
	}

	/**
	 * {@code openai} stays on the hand-written client: measured against the same fake
	 * upstream, Spring AI's OpenAI stream reads ahead of a pause (the upstream wrote all
	 * 100,000 tokens of a paused run), and it costs about ten times the CPU per token
	 * (see BENCHMARKS.md).
	 */
	private static ChatModel model(ModelProperties.Upstream upstream) {
		if (upstream.provider() == ModelProperties.Provider.OPENAI) {
			HttpClient client = HttpClient.newBuilder()
				.version(HttpClient.Version.HTTP_1_1)
				.connectTimeout(upstream.connectTimeout())
				.build();
			return new OpenAiCompatibleModel(upstream, client);
		}
		return SpringAiModels.of(upstream);
	}

	@Override
	public void generate(StartRun request, TokenSink sink) throws InterruptedException {
		upstreams.getOrDefault(request.agentName(), simulated).generate(request, sink);
	}

	@Override
	public List<ToolRequest> respond(StartRun request, List<ToolDefinition> tools, List<ToolRound> rounds,
			TokenSink sink) throws InterruptedException {
		return upstreams.getOrDefault(request.agentName(), simulated).respond(request, tools, rounds, sink);
	}

}
