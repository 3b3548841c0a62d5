package io.stopline.gateway.stream;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import jakarta.annotation.PreDestroy;

import io.stopline.protocol.RunEvent;
import io.stopline.protocol.TokenFrames;
import io.stopline.core.schema.Keys;
import io.stopline.core.events.RunEvents;
import org.redisson.api.RTopic;
import org.redisson.api.listener.StatusListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;

/**
 * This gateway's subscriptions to conversation event channels: one per conversation with
 * at least one socket or resumed chat stream on this gateway, shared by all of them,
 * dropped with the last. Each event is read once and handed to every follower, and
 * converted once for every watcher (socket).
 */
@Component
public class ConversationWatchers {

	private static final Logger log = LoggerFactory.getLogger(ConversationWatchers.class);

	private final RunEvents events;

	private final StreamEvents json;

	/** How long a conversation counts as watched without a refresh from this gateway. */
	public static final Duration WATCHED_TTL = Duration.ofSeconds(60);

	private final ConcurrentMap<String, Channel> channels = new ConcurrentHashMap<>();

	private final ScheduledExecutorService refresher = Executors
		.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("watched-refresh").factory());

	ConversationWatchers(RunEvents events, StreamEvents json) {
		this.events = events;
		this.json = json;
		refresher.scheduleWithFixedDelay(this::refreshWatched, 20, 20, TimeUnit.SECONDS);
	}

	/** Keeps the "watched" marks of this gateway's conversations alive. */
	private void refreshWatched() {
		for (Channel channel : channels.values()) {
			try {
				events.markWatched(channel.userId, channel.conversationId, WATCHED_TTL);
			}
			catch (RuntimeException ex) {
				log.debug("could not refresh the watched mark of {}: {}", channel.conversationId, ex.toString());
			}
		}
	}

	@PreDestroy
	void close() {
		refresher.shutdownNow();
	}

	/**
	 * Hears a conversation's events as they arrive, on the Redis listener's thread (it
	 * must not block).
	 */
	@FunctionalInterface
	public interface Follower {

		void accept(RunEvent event);

	}

	/** Adds a watcher; the future completes once its channel is subscribed. */
	CompletableFuture<?> add(Watcher watcher) {
		return join(watcher.userId(), watcher.conversationId(), channel -> channel.watchers.add(watcher));
	}

	void remove(Watcher watcher) {
		leave(watcher.userId(), watcher.conversationId(), channel -> channel.watchers.remove(watcher));
	}

	/**
	 * Adds a follower of the user's conversation; the future completes once its channel
	 * is subscribed. Remove it with {@link #unfollow}.
	 */
	public CompletableFuture<?> follow(String userId, String conversationId, Follower follower) {
		return join(userId, conversationId, channel -> channel.followers.add(follower));
	}

	public void unfollow(String userId, String conversationId, Follower follower) {
		leave(userId, conversationId, channel -> channel.followers.remove(follower));
	}

	private CompletableFuture<?> join(String userId, String conversationId, Consumer<Channel> member) {
		Channel[] joined = new Channel[1];
		channels.compute(Keys.conversationEvents(userId, conversationId), (key, existing) -> {
			Channel channel = existing != null ? existing : open(userId, conversationId);
			member.accept(channel);
			joined[0] = channel;
			return channel;
		});
		return joined[0].subscribed;
	}

	private void leave(String userId, String conversationId, Consumer<Channel> member) {
		channels.computeIfPresent(Keys.conversationEvents(userId, conversationId), (key, channel) -> {
			member.accept(channel);
			if (!channel.watchers.isEmpty() || !channel.followers.isEmpty()) {
				return channel;
			}
			channel.topic.removeAllListenersAsync();
			return null;
		});
	}

	/** Conversations watched from this gateway right now. */
	int channels() {
		return channels.size();
	}

	/**
	 * Starts subscribing and returns at once (this runs inside the map's compute): the
	 * channel's future completes when Redis confirms, or fails, and then the sockets
	 * waiting on it close and the channel goes with them.
	 */
	private Channel open(String userId, String conversationId) {
		RTopic topic = events.conversation(userId, conversationId);
		Channel channel = new Channel(topic, userId, conversationId);
		topic.addListenerAsync(new StatusListener() {
			@Override
			public void onSubscribe(String name) {
				// after a reconnect: events published meanwhile are gone, so each socket
				// gets the state again
				if (channel.subscribed.isDone()) {
					channel.watchers.forEach(Watcher::resync);
				}
			}

			@Override
			public void onUnsubscribe(String name) {
			}
		});
		topic.addListenerAsync(String.class, (name, raw) -> channel.deliver(raw)).whenComplete((id, error) -> {
			if (error != null) {
				log.warn("could not subscribe {}: {}", topic.getChannelNames(), error.toString());
				channel.subscribed.completeExceptionally(error);
			}
			else {
				channel.subscribed.complete(null);
			}
		});
		return channel;
	}

	private final class Channel {

		final RTopic topic;

		final Set<Watcher> watchers = ConcurrentHashMap.newKeySet();

		final Set<Follower> followers = ConcurrentHashMap.newKeySet();

		final CompletableFuture<Void> subscribed = new CompletableFuture<>();

		final String userId;

		final String conversationId;

		Channel(RTopic topic, String userId, String conversationId) {
			this.topic = topic;
			this.userId = userId;
			this.conversationId = conversationId;
		}

		void deliver(String raw) {
			try {
				for (RunEvent event : TokenFrames.decodeEvents(raw)) {
					followers.forEach(follower -> follower.accept(event));
					if (!watchers.isEmpty()) {
						json.toJson(event).ifPresent(text -> watchers.forEach(w -> w.offer(text)));
					}
				}
			}
			catch (RuntimeException ex) {
				log.warn("dropping an unreadable conversation event: {}", ex.toString());
			}
		}

	}

}
