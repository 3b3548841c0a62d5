package io.stopline.gateway.stream;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * What a ticket stands for, as stored in Redis: one socket, or one resumed chat stream,
 * of this user on this conversation.
 *
 * @param expires when the bearer token the ticket was exchanged for expires (the socket
 * closes then, as it would with the token itself)
 */
public record StreamTicket(String user, String conversation, @Nullable Instant expires) {
}
