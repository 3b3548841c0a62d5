package io.stopline.worker.tool;

import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;

import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import reactor.core.publisher.Mono;

/**
 * An SDK transport that tells each tool call its JSON-RPC request id, and sends its
 * {@code notifications/cancelled}.
 * <p>
 * Hand-written because the SDK (2.0.1) neither cancels a request whose subscription is
 * disposed (no notification is sent, the response stream stays open) nor exposes the id
 * it gave the request. The id is handed over through the Reactor context, which the SDK
 * passes on to {@code sendMessage}: the call subscribes with its {@link PendingCall} in
 * the context.
 */
final class CancellableTransport implements McpClientTransport {

	/**
	 * The reason sent to the server: fixed, so it says nothing of the user, the run or
	 * why it stopped.
	 */
	static final String CANCEL_REASON = "Request cancelled by the client.";

	static final String CANCELLED = "notifications/cancelled";

	private final McpClientTransport delegate;

	/**
	 * The stdio transport fails a message emitted concurrently with another: cancels of
	 * parallel calls go one at a time.
	 */
	private final ReentrantLock sending = new ReentrantLock();

	CancellableTransport(McpClientTransport delegate) {
		this.delegate = delegate;
	}

	@Override
	public Mono<Void> sendMessage(McpSchema.JSONRPCMessage message) {
		if (message instanceof McpSchema.JSONRPCRequest request
				&& McpSchema.METHOD_TOOLS_CALL.equals(request.method())) {
			return Mono.deferContextual(context -> {
				PendingCall call = context.<PendingCall>getOrEmpty(PendingCall.class).orElse(null);
				if (call != null && !call.sent(request.id())) {
					// cancelled before it left: never sent
					return Mono.empty();
				}
				return delegate.sendMessage(message);
			});
		}
		return delegate.sendMessage(message);
	}

	/**
	 * Sends {@code notifications/cancelled} for the request; on stdio it is written at
	 * once, on HTTP when the returned stage is subscribed.
	 */
	Mono<Void> cancel(Object requestId) {
		McpSchema.JSONRPCNotification notification = new McpSchema.JSONRPCNotification(CANCELLED,
				Map.of("requestId", requestId, "reason", CANCEL_REASON));
		sending.lock();
		try {
			Mono<Void> sent = delegate.sendMessage(notification);
			return sent;
		}
		catch (RuntimeException ex) {
			return Mono.error(ex);
		}
		finally {
			sending.unlock();
		}
	}

	@Override
	public Mono<Void> connect(Function<Mono<McpSchema.JSONRPCMessage>, Mono<McpSchema.JSONRPCMessage>> handler) {
		return delegate.connect(handler);
	}

	@Override
	public void setExceptionHandler(Consumer<Throwable> handler) {
		delegate.setExceptionHandler(handler);
	}

	@Override
	public Mono<Void> closeGracefully() {
		return delegate.closeGracefully();
	}

	@Override
	public void close() {
		delegate.close();
	}

	@Override
	public <T> T unmarshalFrom(Object data, TypeRef<T> typeRef) {
		return delegate.unmarshalFrom(data, typeRef);
	}

	@Override
	public List<String> protocolVersions() {
		return delegate.protocolVersions();
	}

}
