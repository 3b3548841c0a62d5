package io.stopline.gateway.auth;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import org.springframework.security.oauth2.jwt.BadJwtException;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A token verified once is not verified again while it is valid; one whose {@code exp}
 * has passed goes back to the verifying decoder (which refuses it), and a refused token
 * is never kept.
 */
class VerifiedTokensTests {

	@Test
	void aValidTokenIsVerifiedOnce() {
		Counting counting = new Counting(Instant.now().plusSeconds(300));
		JwtDecoder decoder = new JwtDecoders.Verified(counting, Duration.ZERO);

		Jwt first = decoder.decode("token-a");
		Jwt again = decoder.decode("token-a");
		decoder.decode("token-b");

		assertThat(again).isSameAs(first);
		assertThat(counting.calls).hasValue(2);
	}

	@Test
	void aKeptTokenWhoseExpiryPassedIsVerifiedAgain() {
		Counting counting = new Counting(Instant.now().minusSeconds(1));
		JwtDecoder decoder = new JwtDecoders.Verified(counting, Duration.ZERO);

		decoder.decode("token-a");
		decoder.decode("token-a");

		assertThat(counting.calls).as("an expired token is never answered from memory").hasValue(2);
	}

	@Test
	void aRefusedTokenIsNotKept() {
		AtomicInteger calls = new AtomicInteger();
		JwtDecoder decoder = new JwtDecoders.Verified(token -> {
			calls.incrementAndGet();
			throw new BadJwtException("bad signature");
		}, Duration.ZERO);

		assertThatThrownBy(() -> decoder.decode("forged")).isInstanceOf(BadJwtException.class);
		assertThatThrownBy(() -> decoder.decode("forged")).isInstanceOf(BadJwtException.class);
		assertThat(calls).hasValue(2);
	}

	private static final class Counting implements JwtDecoder {

		private final AtomicInteger calls = new AtomicInteger();

		private final Instant expiresAt;

		Counting(Instant expiresAt) {
			this.expiresAt = expiresAt;
		}

		@Override
		public Jwt decode(String token) {
			calls.incrementAndGet();
			return Jwt.withTokenValue(token)
				.header("alg", "HS256")
				.subject("alice")
				.issuedAt(Instant.now().minusSeconds(600))
				.expiresAt(expiresAt)
				.build();
		}

	}

}
