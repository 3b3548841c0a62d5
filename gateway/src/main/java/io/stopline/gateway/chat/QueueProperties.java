package io.stopline.gateway.chat;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How many messages may wait for a conversation's active run to end
 * ({@code stopline.gateway.max-queued-per-conversation}): a chat request with
 * {@code on_active: enqueue} beyond it is refused with 429. A replacement
 * ({@code interrupt}, {@code rollback}) is not counted: only one can wait at a time.
 */
@ConfigurationProperties("stopline.gateway")
record QueueProperties(@DefaultValue("8") int maxQueuedPerConversation) {
}
