package io.stopline.gateway.auth;

import java.util.List;
import java.util.regex.Pattern;

import com.nimbusds.jose.jwk.source.ImmutableSecret;
import io.stopline.gateway.GatewayProperties;
import io.stopline.gateway.system.ProblemWriter;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationConverter;
import org.springframework.security.oauth2.server.resource.authentication.JwtGrantedAuthoritiesConverter;
import org.springframework.security.oauth2.server.resource.web.BearerTokenResolver;
import org.springframework.security.oauth2.server.resource.web.DefaultBearerTokenResolver;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.header.writers.ReferrerPolicyHeaderWriter.ReferrerPolicy;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.CorsConfigurationSource;
import org.springframework.web.cors.UrlBasedCorsConfigurationSource;

/**
 * Every {@code /v1/**} endpoint needs a valid bearer JWT, except the dev-token endpoint.
 * Failures are RFC 9457 problem details written here, since they happen before any
 * controller.
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfiguration {

	@Bean
	SecurityFilterChain api(HttpSecurity http, ProblemWriter problems, AuthProperties properties) throws Exception {
		// stateless bearer-token API: no CSRF, no logout, no saved requests, no servlet
		// API wrapping (each an unused filter on every request)
		return http.csrf(csrf -> csrf.disable())
			.logout(logout -> logout.disable())
			.requestCache(cache -> cache.disable())
			.servletApi(servletApi -> servletApi.disable())
			.cors(Customizer.withDefaults())
			.sessionManagement(session -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
			// on top of Spring Security's defaults (nosniff, no caching of API answers)
			.headers(headers -> headers.contentSecurityPolicy(csp -> csp.policyDirectives(CONTENT_SECURITY_POLICY))
				.referrerPolicy(referrer -> referrer.policy(ReferrerPolicy.NO_REFERRER))
				.frameOptions(frames -> frames.deny()))
			.authorizeHttpRequests(requests -> requests.requestMatchers(HttpMethod.POST, "/v1/auth/dev-token")
				.permitAll()
				// authenticated by the handshake itself, which answers on the socket
				.requestMatchers(HttpMethod.GET, "/v1/conversation/*/stream")
				.permitAll()
				// a resumed chat stream: the bearer token (checked here when present) or
				// a stream ticket, which its controller takes
				.requestMatchers(HttpMethod.GET, "/v1/conversation/*/runs/*/stream")
				.permitAll()
				.requestMatchers("/v1/admin/**", "/v1/stats/**")
				.hasRole(properties.adminRole())
				.requestMatchers("/v1/**")
				.authenticated()
				.anyRequest()
				.permitAll())
			.oauth2ResourceServer(oauth -> oauth.bearerTokenResolver(bearerTokens())
				.jwt(jwt -> jwt.jwtAuthenticationConverter(roles(properties)))
				.authenticationEntryPoint((request, response, ex) -> problems.write(request, response,
						HttpStatus.UNAUTHORIZED, "A valid bearer token is required.", true)))
			.exceptionHandling(handling -> handling
				.authenticationEntryPoint((request, response, ex) -> problems.write(request, response,
						HttpStatus.UNAUTHORIZED, "A valid bearer token is required.", true))
				.accessDeniedHandler((request, response, ex) -> problems.write(request, response, HttpStatus.FORBIDDEN,
						"Not allowed.", false)))
			.build();
	}

	/**
	 * The page loads its script, style and data from the gateway only: no inline script
	 * or style, no plugins, never framed (with {@code X-Frame-Options: DENY} for older
	 * browsers). {@code connect-src 'self'} covers the page's own WebSocket.
	 */
	static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; "
			+ "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
			+ "frame-ancestors 'none'";

	/**
	 * The bearer header, except on the WebSocket stream, whose handshake authenticates
	 * itself (a ticket, the header, or in {@code dev} a {@code token} parameter) so that
	 * a bad one closes the socket with 1008 instead of failing the upgrade with a status
	 * the browser cannot read.
	 */
	private static BearerTokenResolver bearerTokens() {
		DefaultBearerTokenResolver header = new DefaultBearerTokenResolver();
		return request -> STREAM.matcher(request.getRequestURI()).matches() ? null : header.resolve(request);
	}

	private static final Pattern STREAM = Pattern.compile("^/v1/conversation/[^/]+/stream$");

	/**
	 * CORS for the frontend's origins ({@code stopline.gateway.allowed-origins}); none by
	 * default, the page served by the gateway itself needs none.
	 */
	@Bean
	CorsConfigurationSource corsConfigurationSource(GatewayProperties gateway) {
		CorsConfiguration cors = new CorsConfiguration();
		cors.setAllowedOriginPatterns(gateway.allowedOrigins());
		cors.setAllowedMethods(List.of("GET", "POST", "OPTIONS"));
		cors.setAllowedHeaders(List.of("Authorization", "Content-Type", "X-Conversation-Id", "Last-Event-ID"));
		cors.setExposedHeaders(List.of("Retry-After"));
		cors.setMaxAge(3600L);
		UrlBasedCorsConfigurationSource source = new UrlBasedCorsConfigurationSource();
		source.registerCorsConfiguration("/v1/**", cors);
		return source;
	}

	/** Roles come from a configurable claim, as {@code ROLE_<name>} authorities. */
	private static JwtAuthenticationConverter roles(AuthProperties properties) {
		JwtGrantedAuthoritiesConverter authorities = new JwtGrantedAuthoritiesConverter();
		authorities.setAuthoritiesClaimName(properties.rolesClaim());
		authorities.setAuthorityPrefix("ROLE_");
		JwtAuthenticationConverter converter = new JwtAuthenticationConverter();
		converter.setJwtGrantedAuthoritiesConverter(authorities);
		return converter;
	}

	@Bean
	JwtDecoder jwtDecoder(AuthProperties properties, Environment environment) {
		AuthPolicy.check(properties, environment);
		return JwtDecoders.of(properties);
	}

	/** Signs dev tokens; only with a secret (and only the dev profile serves them). */
	@Bean
	JwtEncoder jwtEncoder(AuthProperties properties) {
		if (!properties.hasSecret()) {
			return parameters -> {
				throw new IllegalStateException("no jwt secret to sign with");
			};
		}
		return new NimbusJwtEncoder(new ImmutableSecret<>(JwtDecoders.secretKey(properties)));
	}

}
