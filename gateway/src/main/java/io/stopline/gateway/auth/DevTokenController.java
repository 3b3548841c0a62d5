package io.stopline.gateway.auth;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;
import io.stopline.gateway.system.Problems;
import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpStatus;
import org.springframework.security.oauth2.jose.jws.MacAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.web.ErrorResponseException;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /v1/auth/dev-token}: a token for any user name, for local use only (off
 * unless enabled, and only in the {@code dev} profile). Roles are refused (403) unless
 * {@code stopline.auth.dev-tokens.allow-roles} is set as well: dev tokens alone must not
 * make anyone an admin.
 */
@RestController
class DevTokenController {

	private final JwtEncoder encoder;

	private final AuthProperties properties;

	DevTokenController(JwtEncoder encoder, AuthProperties properties) {
		this.encoder = encoder;
		this.properties = properties;
	}

	@PostMapping("/v1/auth/dev-token")
	Map<String, String> issue(@Valid @RequestBody DevTokenRequest request) {
		if (!properties.devTokens().enabled()) {
			throw new ErrorResponseException(HttpStatus.NOT_FOUND);
		}
		if (request.roles() != null && !request.roles().isEmpty() && !properties.devTokens().allowRoles()) {
			throw Problems.of(HttpStatus.FORBIDDEN,
					"Dev tokens carry no roles unless stopline.auth.dev-tokens.allow-roles=true.");
		}
		Instant now = Instant.now();
		JwtClaimsSet.Builder claims = JwtClaimsSet.builder()
			.subject(request.user())
			.claim(properties.rolesClaim(), request.roles() == null ? List.of() : request.roles())
			.issuedAt(now)
			.expiresAt(now.plus(properties.devTokens().validity()));
		// the gateway's own checks apply to its dev tokens too
		if (properties.issuer() != null) {
			claims.issuer(properties.issuer());
		}
		if (properties.audience() != null) {
			claims.audience(List.of(properties.audience()));
		}
		String token = encoder
			.encode(JwtEncoderParameters.from(JwsHeader.with(MacAlgorithm.HS256).build(), claims.build()))
			.getTokenValue();
		return Map.of("token", token);
	}

	record DevTokenRequest(@NotBlank @Size(max = 128) String user,
			@Nullable @Size(max = 8) List<@NotBlank @Size(max = 64) String> roles) {
	}

}
