package io.stopline.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.stopline.gateway.GatewayApplication;
import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Response;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Identity providers and Redis credentials: RS256 tokens checked against a provider's JWK
 * set (served over HTTP), the start-up refusals outside the dev profile, and a cluster on
 * a Redis that requires a user and password.
 */
class IdentityAndCredentialsIntegrationTests {

	private static final Duration BOUND = Duration.ofSeconds(10);

	@Test
	void tokensOfAnRs256ProviderAreCheckedAgainstItsJwkSet() throws Exception {
		RSAKey key = new RSAKeyGenerator(2048).keyID("k1").generate();
		RSAKey stranger = new RSAKeyGenerator(2048).keyID("k1").generate();
		HttpServer jwks = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
		byte[] body = new JWKSet(key.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
		jwks.createContext("/jwks", exchange -> {
			exchange.getResponseHeaders().add("Content-Type", "application/json");
			exchange.sendResponseHeaders(200, body.length);
			exchange.getResponseBody().write(body);
			exchange.close();
		});
		jwks.start();
		try (Cluster cluster = Cluster.start(TestRedis.shared(), 1, 2, Map.of(),
				Map.of("stopline.auth.jwk-set-uri", "http://127.0.0.1:" + jwks.getAddress().getPort() + "/jwks",
						"stopline.auth.audience", "stopline-api", "spring.profiles.active", "default",
						"stopline.auth.jwt-secret", ""))) {
			String user = "rs-" + UUID.randomUUID();
			String good = rs256(key, user);
			Api api = Api.withToken(cluster.gatewayUrl(0), good);
			assertThat(api.get("/v1/conversations/active").status()).isEqualTo(200);
			String conversation = "c-" + UUID.randomUUID();
			ChatStream run = api.chatStream(conversation, 5000);
			assertThat(run.next(BOUND)).isNotNull();
			assertThat(api.stop(conversation).status()).isEqualTo(200);

			assertThat(Api.withToken(cluster.gatewayUrl(0), rs256(stranger, user))
				.get("/v1/conversations/active")
				.status()).as("signed by another key").isEqualTo(401);
			assertThat(Api.withToken(cluster.gatewayUrl(0), hs256(user)).get("/v1/conversations/active").status())
				.as("HS256 when only a provider is configured")
				.isEqualTo(401);
			Response devToken = Api.withToken(cluster.gatewayUrl(0), null)
				.raw("POST", "/v1/auth/dev-token", "{\"user\":\"x\"}", Map.of("Content-Type", "application/json"));
			assertThat(devToken.status()).as("no dev tokens outside the dev profile").isEqualTo(404);
		}
		finally {
			jwks.stop(0);
		}
	}

	@Test
	void outsideTheDevProfileTheGatewayRefusesToStartWithoutKeysOrWithDevTokens() {
		assertThatThrownBy(() -> startGateway(Map.of())).hasStackTraceContaining("No token keys configured");
		assertThatThrownBy(() -> startGateway(Map.of("stopline.auth.jwt-secret", "too-short")))
			.hasStackTraceContaining("shorter than 32 bytes");
		assertThatThrownBy(() -> startGateway(
				Map.of("stopline.auth.jwt-secret", Cluster.JWT_SECRET, "stopline.auth.dev-tokens.enabled", "true")))
			.hasStackTraceContaining("only allowed with the 'dev' profile");
		try (ConfigurableApplicationContext started = startGateway(
				Map.of("stopline.auth.jwt-secret", Cluster.JWT_SECRET))) {
			assertThat(started.isActive()).as("a proper secret is enough").isTrue();
		}
	}

	@Test
	void aClusterWorksOnARedisThatRequiresAUserAndPassword() throws Exception {
		try (TestRedis redis = TestRedis.withCredentials("stopline", "s3cret-" + UUID.randomUUID());
				Cluster cluster = Cluster.start(redis, 1, 2, Map.of())) {
			assertThat(redis.url()).startsWith("redis://stopline:");
			assertThat(unauthenticatedPing(redis.port())).as("the server does require credentials")
				.startsWith("-NOAUTH");
			Api alice = cluster.api(0, "alice");
			String conversation = "c-" + UUID.randomUUID();
			ChatStream run = alice.chatStream(conversation, 5000);
			assertThat(run.next(BOUND)).isNotNull();
			assertThat(alice.stop(conversation).status()).isEqualTo(200);
			assertThat(run.drain(BOUND)).isNotEmpty();
		}
	}

	private static ConfigurableApplicationContext startGateway(Map<String, String> properties) {
		Map<String, String> all = new LinkedHashMap<>();
		all.put("server.port", "0");
		all.put("spring.data.redis.url", TestRedis.shared().url());
		all.put("spring.main.banner-mode", "off");
		all.put("logging.level.root", "OFF");
		all.putAll(properties);
		return GatewayApplication.application()
			.run(all.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new));
	}

	private static String unauthenticatedPing(int port) throws IOException {
		try (Socket socket = new Socket("127.0.0.1", port)) {
			socket.setSoTimeout(2000);
			OutputStream out = socket.getOutputStream();
			out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
			out.flush();
			InputStream in = socket.getInputStream();
			byte[] reply = new byte[7];
			int read = in.readNBytes(reply, 0, 7);
			return new String(reply, 0, read, StandardCharsets.US_ASCII);
		}
	}

	private static JWTClaimsSet claims(String user) {
		Instant now = Instant.now();
		return new JWTClaimsSet.Builder().subject(user)
			.audience("stopline-api")
			.issueTime(Date.from(now))
			.expirationTime(Date.from(now.plus(Duration.ofMinutes(10))))
			.build();
	}

	private static String rs256(RSAKey key, String user) throws Exception {
		SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(),
				claims(user));
		jwt.sign(new RSASSASigner(key));
		return jwt.serialize();
	}

	private static String hs256(String user) throws Exception {
		SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims(user));
		jwt.sign(new MACSigner(Cluster.JWT_SECRET.getBytes(StandardCharsets.UTF_8)));
		return jwt.serialize();
	}

}
