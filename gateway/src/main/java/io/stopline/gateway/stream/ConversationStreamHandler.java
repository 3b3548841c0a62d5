package io.stopline.gateway.stream;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.CompletableFuture;

import io.stopline.gateway.GatewayProperties;
import io.stopline.gateway.inbox.GatewayInbox;
import io.stopline.protocol.RunControl;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.events.RunEvents;
import io.stopline.core.run.RunRecord;
import io.stopline.protocol.HistoryMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.TextWebSocketHandler;

/**
 * {@code /v1/conversation/{id}/stream}: the caller's conversation, live. Conversation ids
 * are the caller's own namespace: a conversation with no message yet gets a state with no
 * messages, then every event once its first run starts; another user's conversation of
 * the same id is simply a different one. A bad token and an invalid id close the socket
 * with 1008 before anything is sent. Otherwise the socket stays open across runs and
 * stops until the client closes it.
 */
@Component
class ConversationStreamHandler extends TextWebSocketHandler {

	private static final Logger log = LoggerFactory.getLogger(ConversationStreamHandler.class);

	private static final String WATCHER = "stopline.watcher";

	private final ConversationRegistry registry;

	private final ConversationWatchers watchers;

	private final StreamEvents json;

	private final int capacity;

	private final int maxStreamsPerUser;

	/** Open sockets per user on this gateway. */
	private final ConcurrentMap<String, AtomicInteger> streamsPerUser = new ConcurrentHashMap<>();

	private static final String COUNTED = "stopline.counted";

	private final RunEvents events;

	private final GatewayInbox inbox;

	ConversationStreamHandler(ConversationRegistry registry, ConversationWatchers watchers, StreamEvents json,
			RunEvents events, GatewayInbox inbox, GatewayProperties properties) {
		this.events = events;
		this.inbox = inbox;
		this.registry = registry;
		this.watchers = watchers;
		this.json = json;
		this.capacity = properties.streamBuffer();
		this.maxStreamsPerUser = properties.maxStreamsPerUser();
	}

	@Override
	public void afterConnectionEstablished(WebSocketSession session) throws Exception {
		String user = (String) session.getAttributes().get(StreamAuthInterceptor.USER);
		String conversation = (String) session.getAttributes().get(StreamAuthInterceptor.CONVERSATION);
		if (user == null) {
			session.close(CloseStatus.POLICY_VIOLATION.withReason("A valid token is required."));
			return;
		}
		if (conversation == null) {
			session.close(CloseStatus.POLICY_VIOLATION.withReason("Invalid conversation id."));
			return;
		}
		AtomicInteger open = streamsPerUser.computeIfAbsent(user, key -> new AtomicInteger());
		session.getAttributes().put(COUNTED, user);
		if (open.incrementAndGet() > maxStreamsPerUser) {
			session.close(CloseStatus.POLICY_VIOLATION.withReason("Too many open streams."));
			return;
		}
		Instant expires = (Instant) session.getAttributes().get(StreamAuthInterceptor.EXPIRES);
		Watcher watcher = new Watcher(session, user, conversation, capacity, expires != null ? expires : Instant.MAX);
		session.getAttributes().put(WATCHER, watcher);
		CompletableFuture<?> subscribed = watchers.add(watcher);
		Thread.ofVirtual().name("stream-" + conversation).start(() -> {
			try {
				watcher.run(subscribed, this::state);
			}
			finally {
				watchers.remove(watcher);
			}
		});
	}

	/**
	 * The state a socket gets first (and after a resubscription). Marks the conversation
	 * watched first, so a run that starts later publishes its tokens here; a run already
	 * going is asked for a snapshot of its answer so far, which reaches this socket after
	 * the state and turns the run's tokens on for the conversation's channel.
	 */
	private String state(String user, String conversation) {
		events.markWatched(user, conversation, ConversationWatchers.WATCHED_TTL);
		List<HistoryMessage> messages = registry.history(user, conversation);
		RunRecord active = registry.find(user, conversation).orElse(null);
		if (active != null && !active.isQueued() && active.workerId() != null) {
			events.toWorker(active.workerId(), new RunControl(RunControl.SNAPSHOT, active.runId(), user, conversation,
					inbox.gatewayId(), Instant.now()));
		}
		return json.state(conversation, messages, active);
	}

	@Override
	protected void handleTextMessage(WebSocketSession session, TextMessage message) {
		// the stream is one way; commands go through the HTTP API
	}

	@Override
	public void afterConnectionClosed(WebSocketSession session, CloseStatus status) {
		if (session.getAttributes().remove(COUNTED) instanceof String user) {
			streamsPerUser.computeIfPresent(user, (key, open) -> open.decrementAndGet() <= 0 ? null : open);
		}
		if (session.getAttributes().get(WATCHER) instanceof Watcher watcher) {
			watcher.stop();
			watchers.remove(watcher);
		}
	}

	@Override
	public void handleTransportError(WebSocketSession session, Throwable exception) {
		log.debug("stream transport error: {}", exception.toString());
	}

}
