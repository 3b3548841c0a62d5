package io.stopline.gateway.auth;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.core.env.Environment;

/**
 * What the gateway refuses to start with. Outside the {@code dev} profile: no key source
 * at all, dev tokens (anyone could act as anyone), and a secret that is published (the
 * compose file's old placeholder, the tests' and the benchmark's secrets, anything
 * containing {@code change-me}): whoever read the repository could sign tokens for any
 * user. A secret shorter than 32 bytes is refused everywhere (by {@link AuthProperties}).
 */
final class AuthPolicy {

	static final String DEV_PROFILE = "dev";

	/** How to make a secret, in every refusal that needs one. */
	static final String HOW_TO_SET = "set STOPLINE_AUTH_JWT_SECRET (stopline.auth.jwt-secret) to a random secret of "
			+ "at least 32 bytes, e.g. STOPLINE_AUTH_JWT_SECRET=$(head -c 48 /dev/urandom | base64)";

	/** Secrets printed in this repository (and its history): public, so never a key. */
	private static final List<String> PUBLISHED_SECRETS = List.of("local-compose-secret-change-me-0123456789",
			"integration-tests-secret-of-at-least-32-bytes", "benchmark-secret-of-at-least-32-bytes-long",
			"another-secret-of-at-least-32-bytes-long!!");

	private static final Logger log = LoggerFactory.getLogger(AuthPolicy.class);

	private AuthPolicy() {
	}

	static boolean isPublished(@Nullable String secret) {
		return secret != null && (PUBLISHED_SECRETS.contains(secret)
				|| secret.toLowerCase(Locale.ROOT).replace("_", "-").contains("change-me")
				|| secret.toLowerCase(Locale.ROOT).contains("changeme"));
	}

	static void check(AuthProperties properties, Environment environment) {
		boolean dev = Arrays.asList(environment.getActiveProfiles()).contains(DEV_PROFILE);
		if (!properties.hasSecret() && !properties.hasProvider()) {
			throw new IllegalStateException(
					"No token keys configured: " + HOW_TO_SET + ", or set stopline.auth.issuer-uri / jwk-set-uri");
		}
		if (!dev && properties.hasSecret() && isPublished(properties.jwtSecret())) {
			throw new IllegalStateException("stopline.auth.jwt-secret is a placeholder published in the Stopline "
					+ "repository: anyone could sign tokens with it. Outside the '" + DEV_PROFILE + "' profile, "
					+ HOW_TO_SET);
		}
		if (properties.devTokens().enabled()) {
			if (!dev) {
				throw new IllegalStateException("stopline.auth.dev-tokens.enabled=true is only allowed with the '"
						+ DEV_PROFILE + "' profile (spring.profiles.active=dev): it lets anyone act as anyone");
			}
			if (!properties.hasSecret()) {
				throw new IllegalStateException("dev tokens need stopline.auth.jwt-secret to sign them");
			}
			log.warn("dev tokens are enabled: anyone who can reach POST /v1/auth/dev-token can act as any user");
		}
	}

}
