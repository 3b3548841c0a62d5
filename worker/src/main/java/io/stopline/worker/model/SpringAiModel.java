package io.stopline.worker.model;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

import io.stopline.protocol.StartRun;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;

import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.SystemMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.model.StreamingChatModel;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;

/**
 * A Spring AI model behind the worker's blocking {@link ChatModel}: the calling thread
 * pulls the model's {@code Flux} one response at a time. A stop (the thread's interrupt)
 * disposes the subscription, which closes the upstream connection; a pause (the sink
 * blocking) requests nothing more, so as far as the provider's client honours demand the
 * upstream is held back by TCP flow control.
 */
final class SpringAiModel implements ChatModel {

	private final StreamingChatModel model;

	private final IntFunction<ChatOptions> options;

	private final Duration readTimeout;

	/**
	 * @param options a run's options from its token limit: the provider's own options
	 * type, as its model does not merge generic ones
	 */
	SpringAiModel(StreamingChatModel model, IntFunction<ChatOptions> options, Duration readTimeout) {
		this.model = model;
		this.options = options;
		this.readTimeout = readTimeout;
	}

	@Override
	public void generate(StartRun request, TokenSink sink) throws InterruptedException {
		Puller puller = new Puller();
		try {
			try {
				model.stream(prompt(request)).subscribe(puller);
			}
			catch (RuntimeException ex) {
				throw ProviderFailures.of(ex, readTimeout);
			}
			boolean finished = false;
			ChatResponse response;
			while ((response = puller.next(readTimeout)) != null) {
				Generation result = response.getResult();
				if (result == null) {
					// a chunk without choices (Azure's prompt filter, usage): nothing to
					// show
					continue;
				}
				String text = result.getOutput().getText();
				if (text != null && !text.isEmpty()) {
					sink.accept(text);
				}
				String finish = result.getMetadata().getFinishReason();
				finished |= finish != null && !finish.isBlank();
			}
			if (!finished) {
				throw new ModelFailure("The model provider's stream ended before the answer was complete.");
			}
		}
		finally {
			// after a complete stream a no-op; otherwise (stop, failure) it closes the
			// connection. Off this thread: the SDKs' cancel can block while their reader
			// is blocked on a stalled socket, and the run must end regardless.
			Thread.ofVirtual().name("model-dispose").start(puller::dispose);
		}
	}

	private Prompt prompt(StartRun request) {
		List<Message> messages = request.messages().stream().map(SpringAiModel::message).toList();
		return new Prompt(messages, options.apply(request.maxTokens()));
	}

	private static Message message(StartRun.ChatMessage message) {
		return switch (message.role()) {
			case "system" -> new SystemMessage(message.content());
			case "assistant" -> new AssistantMessage(message.content());
			default -> new UserMessage(message.content());
		};
	}

	/**
	 * The model's responses, requested one at a time: the next is requested only when the
	 * previous one was taken.
	 */
	static final class Puller extends BaseSubscriber<ChatResponse> {

		private static final Object END = new Object();

		private final BlockingQueue<Object> items = new LinkedBlockingQueue<>();

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
			Object item = items.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
			if (item == null) {
				throw new ModelFailure("The model provider stalled: nothing arrived for " + timeout + ".");
			}
			if (item == END) {
				return null;
			}
			if (item instanceof Throwable error) {
				throw ProviderFailures.of(error, timeout);
			}
			request(1);
			return (ChatResponse) item;
		}

	}

}
