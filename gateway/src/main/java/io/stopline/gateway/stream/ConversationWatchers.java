package io.stopline.gateway.stream;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.PreDestroy;

import io.stopline.protocol.Json;
import io.stopline.protocol.RunEvent;
import io.stopline.core.schema.Keys;
import io.stopline.core.events.RunEvents;
import org.redisson.api.RTopic;
import org.redisson.api.listener.StatusListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;

/**
 * This gateway's subscriptions to conversation event channels: one per conversation with
 * at least one socket on this gateway, shared by all of them, dropped with the last. Each
 * event is converted once and handed to every watcher.
 */
@Component
class ConversationWatchers {

	private static final Logger log = LoggerFactory.getLogger(ConversationWatchers.class);

	private final RunEvents events;

	private final StreamEvents json;

	/** How long a conversation counts as watched without a refresh from this gateway. */
	static final Duration WATCHED_TTL = Duration.ofSeconds(60);

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

	/** Adds a watcher; the future completes once its channel is subscribed. */
	CompletableFuture<?> add(Watcher watcher) {
		Channel[] joined = new Channel[1];
		channels.compute(key(watcher), (key, existing) -> {
			Channel channel = existing != null ? existing : open(watcher);
			channel.watchers.add(watcher);
			joined[0] = channel;
			return channel;
		});
		return joined[0].subscribed;
	}

	void remove(Watcher watcher) {
		channels.computeIfPresent(key(watcher), (key, channel) -> {
			channel.watchers.remove(watcher);
			if (!channel.watchers.isEmpty()) {
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
	private Channel open(Watcher first) {
		RTopic topic = events.conversation(first.userId(), first.conversationId());
		Channel channel = new Channel(topic, first.userId(), first.conversationId());
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

	private static String key(Watcher watcher) {
		return Keys.conversationEvents(watcher.userId(), watcher.conversationId());
	}

	private final class Channel {

		final RTopic topic;

		final Set<Watcher> watchers = ConcurrentHashMap.newKeySet();

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
				json.toJson(Json.read(raw, RunEvent.class)).ifPresent(text -> watchers.forEach(w -> w.offer(text)));
			}
			catch (RuntimeException ex) {
				log.warn("dropping an unreadable conversation event: {}", ex.toString());
			}
		}

	}

}
