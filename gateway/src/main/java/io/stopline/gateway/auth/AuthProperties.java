package io.stopline.gateway.auth;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code stopline.auth.*}: bearer-token authentication. A token's {@code sub} claim is
 * the user id. At least one key source must be set: an HS256 secret (local use, or a
 * provider sharing a secret) and/or an identity provider's keys (RS256/ES256) by issuer
 * URI or JWK set URI.
 *
 * @param jwtSecret HS256 secret, at least 32 bytes
 * @param issuerUri an OpenID Connect issuer (Keycloak realm, Auth0 tenant, Entra ID
 * tenant): its keys are found by discovery, and {@code iss} must match it
 * @param jwkSetUri the provider's JWK set, when there is no discovery
 * @param issuer required {@code iss} claim (defaults to {@code issuerUri})
 * @param audience required entry of the {@code aud} claim, when set
 * @param clockSkew tolerance for {@code exp} and {@code nbf}
 * @param devTokens {@code POST /v1/auth/dev-token}, only with the {@code dev} profile
 * @param rolesClaim the claim listing a token's roles
 * @param adminRole the role that may see cluster-wide statistics and act on any user's
 * runs
 */
@ConfigurationProperties("stopline.auth")
record AuthProperties(@Nullable String jwtSecret, @Nullable URI issuerUri, @Nullable URI jwkSetUri,
		@Nullable String issuer, @Nullable String audience, @DefaultValue("30s") Duration clockSkew,
		@DefaultValue DevTokens devTokens, @DefaultValue("roles") String rolesClaim,
		@DefaultValue("admin") String adminRole) {

	static final int MIN_SECRET_BYTES = 32;

	AuthProperties {
		if (jwtSecret != null && jwtSecret.isBlank()) {
			jwtSecret = null;
		}
		if (jwtSecret != null && jwtSecret.getBytes(StandardCharsets.UTF_8).length < MIN_SECRET_BYTES) {
			throw new IllegalArgumentException("stopline.auth.jwt-secret (STOPLINE_AUTH_JWT_SECRET) is shorter than "
					+ MIN_SECRET_BYTES + " bytes; use a longer random secret");
		}
		if (issuer == null && issuerUri != null) {
			issuer = issuerUri.toString();
		}
		if (clockSkew.isNegative() || clockSkew.compareTo(Duration.ofMinutes(5)) > 0) {
			throw new IllegalArgumentException("stopline.auth.clock-skew must be between 0 and 5 minutes");
		}
	}

	boolean hasSecret() {
		return jwtSecret != null;
	}

	boolean hasProvider() {
		return issuerUri != null || jwkSetUri != null;
	}

	byte[] secretBytes() {
		if (jwtSecret == null) {
			throw new IllegalStateException("no jwt secret");
		}
		return jwtSecret.getBytes(StandardCharsets.UTF_8);
	}

	/**
	 * @param enabled off by default, and refused outside the {@code dev} profile: anyone
	 * who can reach the endpoint can act as anyone
	 * @param validity lifetime of an issued token
	 * @param allowRoles whether a dev token may carry roles ({@code admin} included); off
	 * even in the {@code dev} profile, so that turning dev tokens on does not also hand
	 * out the admin role
	 */
	record DevTokens(@DefaultValue("false") boolean enabled, @DefaultValue("12h") Duration validity,
			@DefaultValue("false") boolean allowRoles) {
	}
}
