package io.stopline.worker.model;

import java.time.Duration;

import io.netty.channel.ChannelOption;
import reactor.netty.http.client.HttpClient;

import org.springframework.ai.anthropic.AnthropicChatModel;
import org.springframework.ai.anthropic.AnthropicChatOptions;
import org.springframework.ai.chat.model.StreamingChatModel;
import org.springframework.ai.ollama.OllamaChatModel;
import org.springframework.ai.ollama.api.OllamaApi;
import org.springframework.ai.ollama.api.OllamaChatOptions;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * Builds an agent's Spring AI model from its {@link ModelProperties.Upstream}: the model
 * libraries, not their auto-configuration, since every agent names its own provider.
 */
final class SpringAiModels {

	/**
	 * The bound on a whole answer. The SDKs' timeout covers the whole call, so it cannot
	 * be the read timeout; stalls are caught by {@link SpringAiModel} instead.
	 */
	private static final Duration ANSWER_BOUND = Duration.ofMinutes(30);

	private SpringAiModels() {
	}

	static ChatModel of(ModelProperties.Upstream upstream) {
		String name = upstream.model();
		return switch (upstream.provider()) {
			case OPENAI -> new SpringAiModel(openAi(upstream),
					maxTokens -> OpenAiChatOptions.builder().model(name).maxTokens(maxTokens).build(),
					upstream.readTimeout());
			case OLLAMA -> new SpringAiModel(ollama(upstream),
					maxTokens -> OllamaChatOptions.builder().model(name).numPredict(maxTokens).build(),
					upstream.readTimeout());
			case ANTHROPIC -> new SpringAiModel(anthropic(upstream),
					maxTokens -> AnthropicChatOptions.builder().model(name).maxTokens(maxTokens).build(),
					upstream.readTimeout());
		};
	}

	private static StreamingChatModel openAi(ModelProperties.Upstream upstream) {
		return OpenAiChatModel.builder()
			.options(OpenAiChatOptions.builder()
				.baseUrl(upstream.baseUrl().toString())
				.apiKey(apiKey(upstream))
				.model(upstream.model())
				.timeout(ANSWER_BOUND)
				.maxRetries(0)
				.build())
			.build();
	}

	private static StreamingChatModel anthropic(ModelProperties.Upstream upstream) {
		return AnthropicChatModel.builder()
			.options(AnthropicChatOptions.builder()
				.baseUrl(upstream.baseUrl().toString())
				.apiKey(apiKey(upstream))
				.model(upstream.model())
				.timeout(ANSWER_BOUND)
				.maxRetries(0)
				.build())
			.build();
	}

	private static StreamingChatModel ollama(ModelProperties.Upstream upstream) {
		// Reactor Netty closes the connection of a response cancelled before its end
		HttpClient client = HttpClient.create()
			.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) upstream.connectTimeout().toMillis());
		OllamaApi api = OllamaApi.builder()
			.baseUrl(upstream.baseUrl().toString())
			.webClientBuilder(WebClient.builder().clientConnector(new ReactorClientHttpConnector(client)))
			.build();
		return OllamaChatModel.builder()
			.ollamaApi(api)
			.options(OllamaChatOptions.builder().model(upstream.model()).build())
			.build();
	}

	/** Ollama and local servers need none; the SDKs insist on one. */
	private static String apiKey(ModelProperties.Upstream upstream) {
		String key = upstream.apiKey();
		return key == null || key.isBlank() ? "none" : key;
	}

}
