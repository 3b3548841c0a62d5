package io.stopline.worker.model;

import java.net.http.HttpClient;
import java.util.LinkedHashMap;
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
			HttpClient client = HttpClient.newBuilder()
				.version(HttpClient.Version.HTTP_1_1)
				.connectTimeout(upstream.connectTimeout())
				.build();
			upstreams.put(name, new OpenAiCompatibleModel(upstream, client));
			log.info("agent {} streams from {} (model {})", name, upstream.baseUrl(), upstream.model());
		});
	}

	@Override
	public void generate(StartRun request, TokenSink sink) throws InterruptedException {
		upstreams.getOrDefault(request.agentName(), simulated).generate(request, sink);
	}

}
