package io.stopline.worker.tool;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import io.modelcontextprotocol.spec.McpSchema;
import io.stopline.protocol.Json;
import io.stopline.protocol.ToolCallRecord;
import io.stopline.worker.model.ToolRequest;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;

/**
 * One tool call in flight. It ends exactly once: with a result, a failure, its deadline,
 * or a cancellation, whichever comes first.
 */
final class PendingCall {

	private static final int MAX_RESULT_CHARS = 100_000;

	enum State {

		PENDING, DONE, CANCELLED

	}

	private final int index;

	private final ToolRequest request;

	private final McpTools.Binding binding;

	private final McpServerConnection.Session session;

	private final AtomicReference<State> state = new AtomicReference<>(State.PENDING);

	private final long startedNanos = System.nanoTime();

	private volatile @Nullable Object requestId;

	private volatile @Nullable Disposable subscription;

	private volatile ToolCallRecord.Status status = ToolCallRecord.Status.CANCELLED_BEFORE_RESULT;

	private volatile String result = "";

	private volatile long durationMillis;

	PendingCall(int index, ToolRequest request, McpTools.Binding binding, McpServerConnection.Session session) {
		this.index = index;
		this.request = request;
		this.binding = binding;
		this.session = session;
	}

	int index() {
		return index;
	}

	ToolRequest request() {
		return request;
	}

	McpServerConnection.Session session() {
		return session;
	}

	/**
	 * Sends the call; {@code onEnd} hears once when it ends other than by
	 * {@link #cancel}.
	 */
	void start(Map<String, Object> arguments, Duration deadline, Consumer<PendingCall> onEnd) {
		subscription = session.client()
			.callTool(new McpSchema.CallToolRequest(binding.tool(), arguments, null))
			.timeout(deadline)
			.contextWrite(Context.of(PendingCall.class, this))
			.subscribe(answer -> {
				if (end(answer.isError() != null && answer.isError() ? ToolCallRecord.Status.FAILED
						: ToolCallRecord.Status.COMPLETED, text(answer))) {
					onEnd.accept(this);
				}
			}, error -> {
				boolean timedOut = error instanceof TimeoutException;
				if (end(timedOut ? ToolCallRecord.Status.TIMED_OUT : ToolCallRecord.Status.FAILED, timedOut
						? "Error: the tool did not answer within " + deadline + "." : "Error: the tool call failed.")) {
					if (timedOut) {
						notifyCancelled().subscribe(ignored -> {
						}, ignored -> {
						});
					}
					else if (session.isShared()) {
						session.connection().failed(session);
					}
					onEnd.accept(this);
				}
			});
	}

	/**
	 * Called by the transport as the request leaves with its JSON-RPC id. False when the
	 * call was cancelled before: then it is not sent at all.
	 */
	boolean sent(Object id) {
		requestId = id;
		return state.get() == State.PENDING;
	}

	/**
	 * Ends the call unless it already ended: stops listening, and tells the server
	 * (stdio: at once; HTTP: when the returned stage is subscribed). Empty when there was
	 * nothing to tell.
	 */
	@Nullable Mono<Void> cancel() {
		if (!state.compareAndSet(State.PENDING, State.CANCELLED)) {
			return null;
		}
		durationMillis = elapsedMillis();
		Disposable current = subscription;
		if (current != null) {
			current.dispose();
		}
		return notifyCancelled();
	}

	private Mono<Void> notifyCancelled() {
		Object id = requestId;
		return id == null ? Mono.empty() : session.transport().cancel(id);
	}

	private boolean end(ToolCallRecord.Status status, String result) {
		if (!state.compareAndSet(State.PENDING, State.DONE)) {
			return false;
		}
		this.durationMillis = elapsedMillis();
		this.status = status;
		this.result = result.length() > MAX_RESULT_CHARS ? result.substring(0, MAX_RESULT_CHARS) : result;
		return true;
	}

	boolean ended() {
		return state.get() != State.PENDING;
	}

	ToolCallRecord.Status status() {
		return status;
	}

	String result() {
		return result;
	}

	ToolCallRecord record() {
		return new ToolCallRecord(request.id(), request.name(), request.arguments(), status, durationMillis,
				result.length());
	}

	private long elapsedMillis() {
		return (System.nanoTime() - startedNanos) / 1_000_000;
	}

	private static String text(McpSchema.CallToolResult answer) {
		if (answer.content().isEmpty() && answer.structuredContent() != null) {
			return Json.write(answer.structuredContent());
		}
		return answer.content().stream().map(content -> switch (content) {
			case McpSchema.TextContent text -> text.text();
			default -> "[" + content.type() + "]";
		}).collect(Collectors.joining("\n"));
	}

}
