package io.stopline.worker.model;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.stopline.protocol.StartRun;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.util.context.Context;

import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.model.StreamingChatModel;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.tool.ToolCallback;

/**
 * A Spring AI model behind the worker's blocking {@link ChatModel}: the calling thread
 * pulls the model's {@code Flux} one response at a time. A stop (the thread's interrupt)
 * disposes the subscription and cancels the run's HTTP call, which closes the upstream
 * connection even while it is silent; a pause (the sink blocking) requests nothing more,
 * so the upstream is held back by TCP flow control as far as the provider's client
 * honours demand (Anthropic and Ollama do; Spring AI's OpenAI stream reads ahead).
 */
final class SpringAiModel implements ChatModel {

	private final StreamingChatModel model;

	private final RunOptions options;

	private final UpstreamCalls calls;

	private final Duration readTimeout;

	SpringAiModel(StreamingChatModel model, RunOptions options, UpstreamCalls calls, Duration readTimeout) {
		this.model = model;
		this.options = options;
		this.calls = calls;
		this.readTimeout = readTimeout;
	}

	/**
	 * A run's options, in the provider's own options type (its model does not merge
	 * generic ones).
	 */
	@FunctionalInterface
	interface RunOptions {

		/**
		 * @param tools offered to the model, never run by it: the worker's tool loop runs
		 * them
		 * @param headers to send with the run's request
		 */
		ChatOptions of(int maxTokens, List<ToolCallback> tools, Map<String, String> headers);

	}

	@Override
	public void generate(StartRun request, TokenSink sink) throws InterruptedException {
		respond(request, List.of(), List.of(), sink);
	}

	/**
	 * With tools, the prompt offers them and carries the earlier rounds (an assistant
	 * message with the calls, then their results); the calls the model asks for are read
	 * from its responses, as each provider's model puts them together.
	 */
	@Override
	public List<ToolRequest> respond(StartRun request, List<ToolDefinition> tools, List<ToolRound> rounds,
			TokenSink sink) throws InterruptedException {
		UpstreamCalls.Run call = calls.open();
		Puller puller = new Puller(call);
		boolean complete = false;
		try {
			List<ToolCallback> callbacks = tools.stream().map(SpringAiPrompts::callback).toList();
			Prompt prompt = new Prompt(SpringAiPrompts.messages(request, rounds),
					options.of(request.maxTokens(), callbacks, call.headers()));
			try {
				model.stream(prompt).subscribe(puller);
			}
			catch (RuntimeException ex) {
				throw ProviderFailures.of(ex, readTimeout);
			}
			List<ToolRequest> requested = read(puller, sink);
			complete = true;
			return requested;
		}
		finally {
			// after a complete stream it closes nothing; otherwise (stop, failure) the
			// socket closes now. The subscription goes off this thread: the SDKs'
			// dispose can block, and the run must end regardless.
			call.close(complete);
			sink.upstreamClosed();
			Thread.ofVirtual().name("model-dispose").start(puller::dispose);
		}
	}

	private List<ToolRequest> read(Puller puller, TokenSink sink) throws InterruptedException {
		Map<String, ToolRequest> requested = new LinkedHashMap<>();
		boolean finished = false;
		ChatResponse response;
		while ((response = puller.next(readTimeout)) != null) {
			// no result: a chunk without choices (Azure's prompt filter, usage)
			for (Generation result : response.getResults()) {
				String text = result.getOutput().getText();
				if (text != null && !text.isEmpty()) {
					sink.accept(text);
				}
				for (AssistantMessage.ToolCall call : result.getOutput().getToolCalls()) {
					String id = (call.id() == null || call.id().isBlank()) ? "call_" + requested.size() : call.id();
					requested.putIfAbsent(id, new ToolRequest(id, call.name(),
							(call.arguments() == null || call.arguments().isBlank()) ? "{}" : call.arguments()));
				}
				// Ollama's client merges the end into the chunk with the calls and drops
				// its
				// reason: a turn that asks for tools is complete
				String finish = result.getMetadata().getFinishReason();
				finished |= (finish != null && !finish.isBlank()) || result.getOutput().hasToolCalls();
			}
		}
		if (!finished) {
			throw new ModelFailure("The model provider's stream ended before the answer was complete.");
		}
		return List.copyOf(requested.values());
	}

	/**
	 * The model's responses, requested one at a time: the next is requested only when the
	 * previous one was taken.
	 */
	static final class Puller extends BaseSubscriber<ChatResponse> {

		private static final Object END = new Object();

		private final BlockingQueue<Object> items = new LinkedBlockingQueue<>();

		private final UpstreamCalls.Run call;

		Puller(UpstreamCalls.Run call) {
			this.call = call;
		}

		@Override
		public Context currentContext() {
			return call.context();
		}

		@Override
		protected void hookOnSubscribe(Subscription subscription) {
			request(1);
		}

		@Override
		protected void hookOnNext(ChatResponse value) {
			items.add(value);
		}

		@Override
		protected void hookOnError(Throwable error) {
			items.add(error);
		}

		@Override
		protected void hookOnComplete() {
			items.add(END);
		}

		/** The next response, null at the end; fails when none arrives in time. */
		@Nullable ChatResponse next(Duration timeout) throws InterruptedException {
			Object item = items.poll();
			if (item == null) {
				// waiting: let the body flow whatever the count says
				call.readAhead().waiting(true);
				try {
					item = items.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
				}
				finally {
					call.readAhead().waiting(false);
				}
			}
			if (item == null) {
				throw new ModelFailure("The model provider stalled: nothing arrived for " + timeout + ".");
			}
			if (item == END) {
				return null;
			}
			if (item instanceof Throwable error) {
				throw ProviderFailures.of(error, timeout);
			}
			call.readAhead().took();
			request(1);
			return (ChatResponse) item;
		}

	}

}
