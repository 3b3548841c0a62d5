package io.stopline.gateway.stream;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;

import io.stopline.protocol.Json;
import io.stopline.core.schema.Keys;

import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.stereotype.Component;

/**
 * Single-use WebSocket tickets in Redis (see {@link Keys#streamTicket}), so a ticket
 * issued by one gateway opens a socket on any other. A ticket is 256 random bits; Redis
 * holds only its SHA-256. Taking one is a {@code GETDEL}: of two sockets presenting the
 * same ticket, exactly one gets it.
 */
@Component
public class StreamTickets {

	private static final SecureRandom RANDOM = new SecureRandom();

	private final StringRedisTemplate redis;

	private final StreamAuthProperties properties;

	StreamTickets(StringRedisTemplate redis, StreamAuthProperties properties) {
		this.redis = redis;
		this.properties = properties;
	}

	/** A new ticket for this socket, valid once within {@code ticket-ttl}. */
	String issue(StreamTicket ticket) {
		byte[] random = new byte[32];
		RANDOM.nextBytes(random);
		String value = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
		Boolean stored = redis.opsForValue()
			.setIfAbsent(Keys.streamTicket(digest(value)), Json.write(ticket), properties.ticketTtl());
		if (!Boolean.TRUE.equals(stored)) {
			throw new IllegalStateException("a fresh stream ticket already existed");
		}
		return value;
	}

	/** The ticket's socket, or empty when it is unknown, expired or already used. */
	public Optional<StreamTicket> take(String ticket) {
		if (ticket.isEmpty() || ticket.length() > 64) {
			return Optional.empty();
		}
		String stored = redis.opsForValue().getAndDelete(Keys.streamTicket(digest(ticket)));
		return Optional.ofNullable(stored).map(json -> Json.read(json, StreamTicket.class));
	}

	private static String digest(String ticket) {
		try {
			return HexFormat.of()
				.formatHex(MessageDigest.getInstance("SHA-256").digest(ticket.getBytes(StandardCharsets.UTF_8)));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
