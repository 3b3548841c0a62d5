package io.stopline.worker.model;

import java.time.Duration;

import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
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

	/** The most an Ollama stream reads at once (see {@link #ollama}). */
	private static final int OLLAMA_READ_BYTES = 1024;

	private SpringAiModels() {
	}

	static ChatModel of(ModelProperties.Upstream upstream) {
		String name = upstream.model();
		UpstreamCalls calls = new UpstreamCalls();
		return switch (upstream.provider()) {
			case OPENAI -> new SpringAiModel(openAi(upstream, calls),
					(maxTokens, tools, headers) -> OpenAiChatOptions.builder()
						.model(name)
						.maxTokens(maxTokens)
						.toolCallbacks(tools)
						.customHeaders(headers)
						.build(),
					calls, upstream.readTimeout());
			case OLLAMA -> new SpringAiModel(ollama(upstream, calls),
					(maxTokens, tools, headers) -> OllamaChatOptions.builder()
						.model(name)
						.numPredict(maxTokens)
						.toolCallbacks(tools)
						.build(),
					calls, upstream.readTimeout());
			case ANTHROPIC -> new SpringAiModel(anthropic(upstream, calls),
					(maxTokens, tools, headers) -> AnthropicChatOptions.builder()
						.model(name)
						.maxTokens(maxTokens)
						.toolCallbacks(tools)
						.httpHeaders(headers)
						.build(),
					calls, upstream.readTimeout());
		};
	}

	private static StreamingChatModel openAi(ModelProperties.Upstream upstream, UpstreamCalls calls) {
		return OpenAiChatModel.builder()
			.httpClientBuilderCustomizer(client -> client.interceptor(calls))
			.options(OpenAiChatOptions.builder()
				.baseUrl(upstream.baseUrl().toString())
				.apiKey(apiKey(upstream))
				.model(upstream.model())
				.timeout(ANSWER_BOUND)
				.maxRetries(0)
				.build())
			.build();
	}

	private static StreamingChatModel anthropic(ModelProperties.Upstream upstream, UpstreamCalls calls) {
		return AnthropicChatModel.builder()
			.httpClientBuilderCustomizer(client -> client.interceptor(calls))
			.options(AnthropicChatOptions.builder()
				.baseUrl(upstream.baseUrl().toString())
				.apiKey(apiKey(upstream))
				.model(upstream.model())
				.timeout(ANSWER_BOUND)
				.maxRetries(0)
				.build())
			.build();
	}

	/**
	 * Reactor Netty closes the connection of a response ended before its end (a stop:
	 * {@link UpstreamCalls}). Reads are capped at {@value #OLLAMA_READ_BYTES} bytes: the
	 * decoders ahead of the run's demand prefetch a few hundred buffers each, and Netty's
	 * adaptive reads (up to 64 KB each) made that the whole answer, so a pause did not
	 * hold the upstream back (all 100,000 tokens of the fake upstream written while
	 * paused).
	 */
	private static StreamingChatModel ollama(ModelProperties.Upstream upstream, UpstreamCalls calls) {
		HttpClient client = HttpClient.create()
			.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) upstream.connectTimeout().toMillis())
			.option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(OLLAMA_READ_BYTES));
		OllamaApi api = OllamaApi.builder()
			.baseUrl(upstream.baseUrl().toString())
			.webClientBuilder(WebClient.builder()
				.clientConnector(new ReactorClientHttpConnector(client))
				.filter(calls)
				.codecs(codecs -> codecs.customCodecs().register(new NdjsonLines())))
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
