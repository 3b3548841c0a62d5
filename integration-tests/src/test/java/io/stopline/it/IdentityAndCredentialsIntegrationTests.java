package io.stopline.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Date;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.stopline.gateway.GatewayApplication;
import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Response;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

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
	void anOidcIssuerIsDiscoveredAndItsRs256AndEs256TokensAccepted() throws Exception {
		RSAKey rsa = new RSAKeyGenerator(2048).keyID("rsa-1").algorithm(JWSAlgorithm.RS256).generate();
		ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").algorithm(JWSAlgorithm.ES256).generate();
		HttpServer provider = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
		String issuer = "http://127.0.0.1:" + provider.getAddress().getPort() + "/realms/stopline";
		serve(provider, "/realms/stopline/.well-known/openid-configuration",
				"{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + issuer + "/certs\"}");
		serve(provider, "/realms/stopline/certs", new JWKSet(List.of(rsa.toPublicJWK(), ec.toPublicJWK())).toString());
		provider.start();
		try (Cluster cluster = Cluster.start(TestRedis.shared(), 1, 2, Map.of(), Map.of("stopline.auth.issuer-uri",
				issuer, "spring.profiles.active", "default", "stopline.auth.jwt-secret", ""))) {
			String user = "oidc-" + UUID.randomUUID();
			for (String token : List.of(signed(rsa, JWSAlgorithm.RS256, user, issuer),
					signed(ec, JWSAlgorithm.ES256, user, issuer))) {
				Api api = Api.withToken(cluster.gatewayUrl(0), token);
				String conversation = "c-" + UUID.randomUUID();
				ChatStream run = api.chatStream(conversation, 5000);
				assertThat(run.next(BOUND)).isNotNull();
				assertThat(api.stop(conversation).status()).isEqualTo(200);
			}
			assertThat(Api.withToken(cluster.gatewayUrl(0), signed(rsa, JWSAlgorithm.RS256, user, "https://other"))
				.get("/v1/conversations/active")
				.status()).as("another issuer").isEqualTo(401);
		}
		finally {
			provider.stop(0);
		}
	}

	private static void serve(HttpServer server, String path, String json) {
		byte[] body = json.getBytes(StandardCharsets.UTF_8);
		server.createContext(path, exchange -> {
			exchange.getResponseHeaders().add("Content-Type", "application/json");
			exchange.sendResponseHeaders(200, body.length);
			exchange.getResponseBody().write(body);
			exchange.close();
		});
	}

	private static String signed(com.nimbusds.jose.jwk.JWK key, JWSAlgorithm algorithm, String user, String issuer)
			throws Exception {
		Instant now = Instant.now();
		JWTClaimsSet claims = new JWTClaimsSet.Builder().subject(user)
			.issuer(issuer)
			.issueTime(Date.from(now))
			.expirationTime(Date.from(now.plus(Duration.ofMinutes(10))))
			.build();
		SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(algorithm).keyID(key.getKeyID()).build(), claims);
		jwt.sign(key instanceof ECKey ecKey ? new ECDSASigner(ecKey) : new RSASSASigner((RSAKey) key));
		return jwt.serialize();
	}

	@Test
	void outsideTheDevProfileTheGatewayRefusesToStartWithoutKeysOrWithDevTokens() {
		assertThatThrownBy(() -> startGateway(Map.of())).hasStackTraceContaining("No token keys configured")
			.hasStackTraceContaining("head -c 48 /dev/urandom | base64");
		assertThatThrownBy(() -> startGateway(Map.of("stopline.auth.jwt-secret", "too-short")))
			.hasStackTraceContaining("shorter than 32 bytes");
		String secret = randomSecret();
		assertThatThrownBy(() -> startGateway(
				Map.of("stopline.auth.jwt-secret", secret, "stopline.auth.dev-tokens.enabled", "true")))
			.hasStackTraceContaining("only allowed with the 'dev' profile");
		try (ConfigurableApplicationContext started = startGateway(Map.of("stopline.auth.jwt-secret", secret))) {
			assertThat(started.isActive()).as("a proper secret is enough").isTrue();
		}
	}

	@Test
	void outsideTheDevProfileTheGatewayRefusesASecretPublishedInTheRepository() {
		// the old compose placeholder, the tests' and the benchmark's secrets, and
		// anything marked change-me
		for (String published : List.of("local-compose-secret-change-me-0123456789", Cluster.JWT_SECRET,
				"benchmark-secret-of-at-least-32-bytes-long", "please-CHANGE_ME-before-production-0123456789")) {
			assertThatThrownBy(() -> startGateway(Map.of("stopline.auth.jwt-secret", published))).as(published)
				.hasStackTraceContaining("published in the Stopline repository")
				.hasStackTraceContaining("STOPLINE_AUTH_JWT_SECRET=$(head -c 48 /dev/urandom | base64)");
		}
		try (ConfigurableApplicationContext dev = startGateway(Map.of("stopline.auth.jwt-secret",
				"local-compose-secret-change-me-0123456789", "spring.profiles.active", "dev"))) {
			assertThat(dev.isActive()).as("the dev profile may use a known secret").isTrue();
		}
	}

	@Test
	void devTokensCarryRolesOnlyWhenThatIsAllowedExplicitly() {
		Map<String, String> dev = Map.of("stopline.auth.jwt-secret", randomSecret(), "spring.profiles.active", "dev");
		String adminRequest = "{\"user\":\"ops\",\"roles\":[\"admin\"]}";
		Map<String, String> json = Map.of("Content-Type", "application/json");
		try (ConfigurableApplicationContext gateway = startGateway(dev)) {
			Api anonymous = Api.withToken(url(gateway), null);
			Response refused = anonymous.raw("POST", "/v1/auth/dev-token", adminRequest, json);
			assertThat(refused.status()).isEqualTo(403);
			assertThat(refused.contentType()).startsWith("application/problem+json");
			assertThat(refused.body()).contains("stopline.auth.dev-tokens.allow-roles");
			assertThat(anonymous.raw("POST", "/v1/auth/dev-token", "{\"user\":\"ops\"}", json).status())
				.as("a plain dev token")
				.isEqualTo(200);
		}
		Map<String, String> allowed = new LinkedHashMap<>(dev);
		allowed.put("stopline.auth.dev-tokens.allow-roles", "true");
		try (ConfigurableApplicationContext gateway = startGateway(allowed)) {
			Response admin = Api.withToken(url(gateway), null).raw("POST", "/v1/auth/dev-token", adminRequest, json);
			assertThat(admin.status()).isEqualTo(200);
			Api ops = Api.withToken(url(gateway), admin.json().get("token").asString());
			assertThat(ops.get("/v1/admin/audit/stops?limit=1").status()).as("an admin").isEqualTo(200);
		}
	}

	private static String url(ConfigurableApplicationContext gateway) {
		return "http://127.0.0.1:" + gateway.getEnvironment().getProperty("local.server.port");
	}

	private static String randomSecret() {
		return "it-" + UUID.randomUUID() + UUID.randomUUID();
	}

	@Test
	void aClusterWorksOnARedisThatRequiresAUserAndPassword() throws Exception {
		try (TestRedis redis = TestRedis.withCredentials("stopline", "s3cret-" + UUID.randomUUID());
				Cluster cluster = Cluster.start(redis, 1, 2, Map.of())) {
			assertThat(redis.url()).startsWith("redis://stopline:");
			assertThat(TestRedis.ping(redis.port())).as("the server does require credentials").startsWith("-NOAUTH");
			Api alice = cluster.api(0, "alice");
			String conversation = "c-" + UUID.randomUUID();
			ChatStream run = alice.chatStream(conversation, 5000);
			assertThat(run.next(BOUND)).isNotNull();
			assertThat(alice.stop(conversation).status()).isEqualTo(200);
			assertThat(run.drain(BOUND)).isNotEmpty();
		}
	}

	@Test
	void aClusterWorksOverTlsWithAPrivateCertificate(@TempDir Path dir) throws Exception {
		Path cert = dir.resolve("redis.crt");
		Path key = dir.resolve("redis.key");
		exec(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
				"-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key.toString(), "-out", cert.toString()));
		Path truststore = dir.resolve("trust.p12");
		KeyStore store = KeyStore.getInstance("PKCS12");
		store.load(null, null);
		try (InputStream in = Files.newInputStream(cert)) {
			store.setCertificateEntry("redis", CertificateFactory.getInstance("X.509").generateCertificate(in));
		}
		try (OutputStream out = Files.newOutputStream(truststore)) {
			store.store(out, "changeit".toCharArray());
		}
		int port;
		try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
			port = free.getLocalPort();
		}
		Process redis = new ProcessBuilder("redis-server", "--port", "0", "--tls-port", Integer.toString(port),
				"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--tls-cert-file", cert.toString(),
				"--tls-key-file", key.toString(), "--tls-ca-cert-file", cert.toString(), "--tls-auth-clients", "no")
			.redirectErrorStream(true)
			.redirectOutput(dir.resolve("redis.log").toFile())
			.start();
		try {
			await().atMost(BOUND)
				.ignoreExceptions()
				.until(() -> exec(List.of("redis-cli", "--tls", "--cacert", cert.toString(), "-h", "127.0.0.1", "-p",
						Integer.toString(port), "PING"))
					.contains("PONG"));
			Map<String, String> tls = Map.of("spring.data.redis.url", "rediss://127.0.0.1:" + port,
					"spring.data.redis.ssl.enabled", "true", "stopline.redis.ssl.truststore", truststore.toString(),
					"stopline.redis.ssl.truststore-password", "changeit");
			Map<String, String> nodes = new LinkedHashMap<>(tls);
			try (Cluster cluster = Cluster.start(nodes, 1, 2, tls, tls)) {
				Api alice = cluster.api(0, "alice");
				String conversation = "c-" + UUID.randomUUID();
				ChatStream run = alice.chatStream(conversation, 5000);
				assertThat(run.next(BOUND)).isNotNull();
				assertThat(alice.stop(conversation).status()).isEqualTo(200);
			}
		}
		finally {
			redis.destroyForcibly();
		}
	}

	private static String exec(List<String> command) throws IOException, InterruptedException {
		Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
		String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		if (process.waitFor() != 0) {
			throw new IllegalStateException(command + ": " + output);
		}
		return output;
	}

	private static ConfigurableApplicationContext startGateway(Map<String, String> properties) {
		Map<String, String> all = new LinkedHashMap<>();
		all.put("server.port", "0");
		all.put("management.server.port", "0");
		all.put("spring.data.redis.url", TestRedis.shared().url());
		all.put("spring.main.banner-mode", "off");
		all.put("logging.level.root", "OFF");
		all.putAll(properties);
		return GatewayApplication.application()
			.run(all.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new));
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
