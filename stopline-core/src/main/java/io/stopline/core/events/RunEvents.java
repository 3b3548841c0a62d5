package io.stopline.core.events;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import io.stopline.protocol.Json;
import io.stopline.protocol.RunControl;
import io.stopline.protocol.RunEvent;
import io.stopline.protocol.TokenFrames;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.schema.Keys;
import io.stopline.core.schema.Topology;
import org.jspecify.annotations.Nullable;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * Publishes a run's events where they are awaited: the inbox of each gateway waiting for
 * the run (its client's stream, its stop requests) and the conversation's event channel
 * ({@code stopline:{u:<user>}:conv:<id>:events}), which every gateway with a WebSocket on
 * the conversation subscribes to. The publishes go out together and are awaited together,
 * so a run's events stay in order on each channel.
 */
public final class RunEvents {

	private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(RunEvents.class);

	private final RedissonClient redisson;

	private final GatewayInboxes inboxes;

	private final Topology topology;

	private final TokenPlane tokens;

	/** Tokens and control on one client (tests and tools). */
	public RunEvents(RedissonClient redisson, GatewayInboxes inboxes) {
		this(redisson, inboxes, TokenPlane.sharing(redisson));
	}

	/**
	 * Token frames and the conversation channels on {@code tokens}, everything else on
	 * {@code redisson}.
	 */
	public RunEvents(RedissonClient redisson, GatewayInboxes inboxes, TokenPlane tokens) {
		this.redisson = redisson;
		this.inboxes = inboxes;
		this.tokens = tokens;
		this.topology = Topology.of(redisson);
	}

	/**
	 * What {@link #publish(String, Collection, RunEvent)} of {@code terminal} and then
	 * {@link #toConversation} of each of {@code forWatchers} would send, for
	 * {@link ConversationRegistry#finish(RunRecord, RunOutcome, ConversationRegistry.Announcement)}
	 * to publish in the script that records the outcome: the confirmation leaves in the
	 * same round trip as the write. Null on Redis Cluster, where a script cannot reach
	 * channels of other slots: publish separately there.
	 */
	public ConversationRegistry.@Nullable Announcement announcement(String userId, Collection<String> gatewayIds,
			RunEvent terminal, List<? extends RunEvent> forWatchers) {
		return topology.acrossTags(() -> announce(userId, gatewayIds, terminal, forWatchers)).orElse(null);
	}

	private ConversationRegistry.Announcement announce(String userId, Collection<String> gatewayIds, RunEvent terminal,
			List<? extends RunEvent> forWatchers) {
		String conversation = Keys.conversationEvents(userId, terminal.conversationId());
		List<String> channels = new ArrayList<>(gatewayIds.size() + 1);
		new LinkedHashSet<>(gatewayIds).forEach(gatewayId -> channels.add(Keys.gatewayInbox(gatewayId)));
		channels.add(conversation);
		List<ConversationRegistry.Announcement.Publication> publications = new ArrayList<>();
		publications.add(new ConversationRegistry.Announcement.Publication(Json.write(terminal), channels));
		forWatchers.forEach(event -> publications
			.add(new ConversationRegistry.Announcement.Publication(Json.write(event), List.of(conversation))));
		return new ConversationRegistry.Announcement(publications);
	}

	/**
	 * The conversation's event channel, on the token plane: it carries the token frames
	 * of watched runs.
	 */
	public RTopic conversation(String userId, String conversationId) {
		return tokens.topic(Keys.conversationEvents(userId, conversationId));
	}

	/** The token frames addressed to one gateway (on the token plane). */
	public RTopic gatewayTokens(String gatewayId) {
		return tokens.topic(Keys.gatewayTokens(gatewayId));
	}

	/**
	 * The frames of many runs streamed through one gateway, in one pipelined write: one
	 * message ({@link TokenFrames}) on the gateway's token channel carrying them all, in
	 * order, and each frame of a {@code watched} run on the conversation's channel, in
	 * the same encoding (its readers take JSON events and frames alike:
	 * {@link TokenFrames#decodeEvents}). Not awaited: the stage completes when Redis has
	 * taken everything.
	 */
	public CompletableFuture<Void> publishFrames(String gatewayId, List<FrameOut> frames) {
		List<RunEvent.TokenGenerated> toGateway = new ArrayList<>(frames.size());
		List<Map.Entry<String, String>> messages = new ArrayList<>(2);
		messages.add(null);
		for (FrameOut out : frames) {
			toGateway.add(out.frame());
			if (out.watched()) {
				messages.add(Map.entry(Keys.conversationEvents(out.userId(), out.frame().conversationId()),
						TokenFrames.encode(List.of(out.frame()))));
			}
		}
		messages.set(0, Map.entry(Keys.gatewayTokens(gatewayId), TokenFrames.encode(toGateway)));
		return tokens.publishAll(messages);
	}

	/** A frame on its way out, with whether its conversation is watched. */
	public record FrameOut(String userId, RunEvent.TokenGenerated frame, boolean watched) {
	}

	/**
	 * {@code first} to the gateway and the conversation, then {@code then} to the
	 * conversation, in that order, without waiting: the stage completes when both are
	 * out.
	 */
	public CompletableFuture<Void> publishAsync(String userId, String gatewayId, RunEvent first, RunEvent then) {
		String firstJson = Json.write(first);
		String thenJson = Json.write(then);
		RTopic conversation = conversation(userId, first.conversationId());
		CompletableFuture<Long> toGateway = inboxes.inbox(gatewayId).publishAsync(firstJson).toCompletableFuture();
		CompletableFuture<Long> toWatchers = conversation.publishAsync(firstJson)
			.toCompletableFuture()
			.thenCompose(receivers -> conversation.publishAsync(thenJson).toCompletableFuture());
		return CompletableFuture.allOf(toGateway, toWatchers);
	}

	/** A pause, resume or snapshot command to the worker that runs the conversation. */
	public void toWorker(String workerId, RunControl command) {
		topology.topic(redisson, Keys.workerControlChannel(workerId)).publish(Json.write(command));
	}

	/** To one gateway's inbox only: answers that concern nobody else. */
	public void toGateway(String gatewayId, RunEvent event) {
		inboxes.publish(gatewayId, event);
	}

	/** To the conversation's watchers only. */
	public void toConversation(String userId, RunEvent event) {
		publish(userId, List.of(), event);
	}

	public void publish(String userId, String gatewayId, RunEvent event) {
		publish(userId, List.of(gatewayId), event);
	}

	/**
	 * To each distinct gateway and to the conversation's channel. Waits without being
	 * interruptible, like {@link GatewayInboxes}: a stop's interrupt must not cancel the
	 * publish of a token the history already holds.
	 */
	public void publish(String userId, Collection<String> gatewayIds, RunEvent event) {
		publish(userId, gatewayIds, event, true);
	}

	/**
	 * As {@link #publish(String, Collection, RunEvent)}; the conversation's channel only
	 * when {@code watched} (tokens of a conversation no WebSocket watches go to the
	 * gateway inbox alone).
	 */
	public void publish(String userId, Collection<String> gatewayIds, RunEvent event, boolean watched) {
		String json = Json.write(event);
		List<CompletableFuture<Long>> sent = new ArrayList<>(gatewayIds.size() + 1);
		for (String gatewayId : new LinkedHashSet<>(gatewayIds)) {
			sent.add(inboxes.inbox(gatewayId).publishAsync(json).toCompletableFuture());
		}
		if (watched) {
			sent.add(conversation(userId, event.conversationId()).publishAsync(json).toCompletableFuture());
		}
		CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).join();
	}

	/**
	 * To the conversation's watchers, without waiting: announcements on the request path
	 * of a chat start. A failure is only logged.
	 */
	public void toConversationAsync(String userId, RunEvent event) {
		conversation(userId, event.conversationId()).publishAsync(Json.write(event))
			.whenComplete((receivers, error) -> {
				if (error != null) {
					log.warn("could not announce {} of run {}: {}", event.getClass().getSimpleName(), event.runId(),
							error.toString());
				}
			});
	}

	/** A gateway with a socket on the conversation says so, for {@code ttl}. */
	public void markWatched(String userId, String conversationId, java.time.Duration ttl) {
		redisson.getBucket(Keys.conversationWatched(userId, conversationId), StringCodec.INSTANCE).set("1", ttl);
	}

}
