package io.stopline.gateway.auth;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code stopline.auth.*}: bearer-token authentication.
 *
 * @param jwtSecret HS256 secret, at least 32 bytes; a token's {@code sub} claim is the
 * user id
 * @param devTokens {@code POST /v1/auth/dev-token} for local use
 * @param rolesClaim the claim listing a token's roles
 * @param adminRole the role that may see cluster-wide statistics and act on any user's
 * runs
 */
@ConfigurationProperties("stopline.auth")
record AuthProperties(String jwtSecret, @DefaultValue DevTokens devTokens, @DefaultValue("roles") String rolesClaim,
		@DefaultValue("admin") String adminRole) {

	static final int MIN_SECRET_BYTES = 32;

	AuthProperties {
		if (jwtSecret == null || jwtSecret.getBytes(StandardCharsets.UTF_8).length < MIN_SECRET_BYTES) {
			throw new IllegalArgumentException("stopline.auth.jwt-secret (STOPLINE_AUTH_JWT_SECRET) must be set to "
					+ "at least " + MIN_SECRET_BYTES + " bytes");
		}
	}

	byte[] secretBytes() {
		return jwtSecret.getBytes(StandardCharsets.UTF_8);
	}

	/**
	 * @param enabled off by default: anyone who can reach the endpoint can act as anyone
	 * @param validity lifetime of an issued token
	 */
	record DevTokens(@DefaultValue("false") boolean enabled, @DefaultValue("12h") Duration validity) {
	}
}
