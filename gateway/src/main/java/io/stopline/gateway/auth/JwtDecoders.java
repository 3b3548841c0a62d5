package io.stopline.gateway.auth;

import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import org.jspecify.annotations.Nullable;

import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.jose.jws.MacAlgorithm;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.BadJwtException;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtClaimNames;
import org.springframework.security.oauth2.jwt.JwtClaimValidator;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtIssuerValidator;
import org.springframework.security.oauth2.jwt.JwtTimestampValidator;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;

/**
 * Builds the gateway's {@link JwtDecoder} from {@link AuthProperties}: HS256 with the
 * secret, RS256/ES256 with the provider's keys, or both (chosen by the token's
 * {@code alg}, so a token can never pick a weaker path: {@code none} and any other
 * algorithm are refused). Every token must carry {@code sub} and {@code exp}; {@code exp}
 * and {@code nbf} are checked with the configured skew, {@code iss} and {@code aud} when
 * configured.
 */
final class JwtDecoders {

	private JwtDecoders() {
	}

	static SecretKey secretKey(AuthProperties properties) {
		return new SecretKeySpec(properties.secretBytes(), "HmacSHA256");
	}

	static JwtDecoder of(AuthProperties properties) {
		OAuth2TokenValidator<Jwt> validator = validator(properties);
		NimbusJwtDecoder hmac = null;
		if (properties.hasSecret()) {
			hmac = NimbusJwtDecoder.withSecretKey(secretKey(properties)).macAlgorithm(MacAlgorithm.HS256).build();
			hmac.setJwtValidator(validator);
		}
		NimbusJwtDecoder provider = null;
		if (properties.jwkSetUri() != null) {
			provider = NimbusJwtDecoder.withJwkSetUri(properties.jwkSetUri().toString())
				.jwsAlgorithm(SignatureAlgorithm.RS256)
				.jwsAlgorithm(SignatureAlgorithm.ES256)
				.build();
		}
		else if (properties.issuerUri() != null) {
			provider = NimbusJwtDecoder.withIssuerLocation(properties.issuerUri().toString()).build();
		}
		if (provider != null) {
			provider.setJwtValidator(validator);
		}
		return new Verified(new ByAlgorithm(hmac, provider), properties.clockSkew());
	}

	private static OAuth2TokenValidator<Jwt> validator(AuthProperties properties) {
		List<OAuth2TokenValidator<Jwt>> validators = new ArrayList<>();
		validators.add(new JwtTimestampValidator(properties.clockSkew()));
		validators.add(new JwtClaimValidator<Instant>(JwtClaimNames.EXP, Objects::nonNull));
		validators.add(new JwtClaimValidator<String>(JwtClaimNames.SUB, sub -> sub != null && !sub.isBlank()));
		if (properties.issuer() != null) {
			validators.add(new JwtIssuerValidator(properties.issuer()));
		}
		if (properties.audience() != null) {
			String audience = properties.audience();
			validators.add(new JwtClaimValidator<List<String>>(JwtClaimNames.AUD,
					aud -> aud != null && aud.contains(audience)));
		}
		return new DelegatingOAuth2TokenValidator<>(validators);
	}

	/**
	 * The tokens verified lately, by their text: a client sends the same token with each
	 * request, and parsing and verifying it again was about 4 % of the gateway's CPU on
	 * the stop and start paths. A kept token is still refused once its {@code exp} (with
	 * the skew) has passed; every other check held when it was verified and cannot change
	 * for the same bytes. Kept at most {@link #KEEP} (a provider's key that is withdrawn
	 * stops being trusted by then) and {@link #MAX_TOKENS} tokens.
	 */
	static final class Verified implements JwtDecoder {

		static final Duration KEEP = Duration.ofMinutes(1);

		static final int MAX_TOKENS = 10_000;

		private final JwtDecoder decoder;

		private final Duration skew;

		private final Cache<String, Jwt> verified = Caffeine.newBuilder()
			.maximumSize(MAX_TOKENS)
			.expireAfterWrite(KEEP)
			.build();

		Verified(JwtDecoder decoder, Duration skew) {
			this.decoder = decoder;
			this.skew = skew;
		}

		@Override
		public Jwt decode(String token) {
			Jwt kept = verified.getIfPresent(token);
			if (kept != null && kept.getExpiresAt() != null && Instant.now().isBefore(kept.getExpiresAt().plus(skew))) {
				return kept;
			}
			Jwt jwt = decoder.decode(token);
			verified.put(token, jwt);
			return jwt;
		}

	}

	/** Routes a token to the decoder of its algorithm family. */
	private record ByAlgorithm(@Nullable JwtDecoder hmac, @Nullable JwtDecoder provider) implements JwtDecoder {

		@Override
		public Jwt decode(String token) {
			JWSAlgorithm algorithm;
			try {
				if (!(JWTParser.parse(token) instanceof SignedJWT signed)) {
					throw new BadJwtException("An unsigned token is not accepted.");
				}
				algorithm = signed.getHeader().getAlgorithm();
			}
			catch (ParseException ex) {
				throw new BadJwtException("Malformed token.");
			}
			JwtDecoder decoder = JWSAlgorithm.Family.HMAC_SHA.contains(algorithm) ? hmac : provider;
			if (decoder == null) {
				throw new BadJwtException("Tokens signed with " + algorithm + " are not accepted.");
			}
			return decoder.decode(token);
		}

	}

}
