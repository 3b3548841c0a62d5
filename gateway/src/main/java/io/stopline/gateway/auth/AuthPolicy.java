package io.stopline.gateway.auth;

import java.util.Arrays;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.core.env.Environment;

/**
 * What the gateway refuses to start with. Outside the {@code dev} profile: no key source
 * at all, and dev tokens (anyone could act as anyone). A secret shorter than 32 bytes is
 * refused everywhere (by {@link AuthProperties}).
 */
final class AuthPolicy {

	static final String DEV_PROFILE = "dev";

	private static final Logger log = LoggerFactory.getLogger(AuthPolicy.class);

	private AuthPolicy() {
	}

	static void check(AuthProperties properties, Environment environment) {
		boolean dev = Arrays.asList(environment.getActiveProfiles()).contains(DEV_PROFILE);
		if (!properties.hasSecret() && !properties.hasProvider()) {
			throw new IllegalStateException("No token keys configured: set stopline.auth.jwt-secret "
					+ "(STOPLINE_AUTH_JWT_SECRET, at least 32 bytes) or stopline.auth.issuer-uri / jwk-set-uri");
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
