package io.stopline.gateway.auth;

import java.util.Map;

import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /v1/auth/whoami}: the caller's user id. Touches nothing but authentication,
 * so it is also the floor the benchmark measures every other endpoint against.
 */
@RestController
class WhoAmIController {

	@GetMapping("/v1/auth/whoami")
	Map<String, String> whoami(@AuthenticationPrincipal Jwt jwt) {
		return Map.of("user_id", jwt.getSubject());
	}

}
