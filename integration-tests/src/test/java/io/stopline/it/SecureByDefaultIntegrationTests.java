package io.stopline.it;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.stopline.gateway.GatewayApplication;
import io.stopline.it.Api.Response;
import io.stopline.core.schema.Keys;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two gateways as deployed (not the {@code dev} profile, a secret of their own): a
 * browser's socket opens with a single-use ticket on any gateway, and every misuse of a
 * ticket, or a JWT in the URL, is refused with 1008 before anything is sent. Also the
 * page's security headers.
 */
class SecureByDefaultIntegrationTests {

	/** Random per run: outside dev a published secret is refused. */
	private static final String SECRET = "it-" + UUID.randomUUID() + UUID.randomUUID();

	private static final Duration BOUND = Duration.ofSeconds(10);

	private static final int POLICY_VIOLATION = 1008;

	@RegisterExtension
	static final Cluster cluster = Cluster.onSharedRedis(2, 1, Map.of(),
			Map.of("spring.profiles.active", "default", "stopline.auth.jwt-secret", SECRET));

	private static RedisInspector redis;

	@BeforeAll
	static void inspect() {
		redis = new RedisInspector(cluster.testRedis());
	}

	@AfterAll
	static void closeInspector() {
		if (redis != null) {
			redis.close();
		}
	}

	@Test
	void aTicketOpensOneSocketOnAnyGatewayOnceAndRedisHoldsOnlyItsDigest() throws Exception {
		Api alice = user(0, "alice");
		String conversation = conversationOf(alice);
		Response issued = alice.streamTicket(conversation);
		assertThat(issued.status()).isEqualTo(200);
		assertThat(issued.json().get("expires_in").asInt()).isEqualTo(30);
		String ticket = issued.json().get("ticket").asString();
		assertThat(ticket).hasSizeGreaterThanOrEqualTo(43);
		String key = Keys.streamTicket(sha256(ticket));
		Long ttl = redis.template().getExpire(key, TimeUnit.MILLISECONDS);
		assertThat(ttl).isBetween(1L, 30_000L);
		assertThat(redis.keys("stopline:stream-ticket:*")).noneMatch(stored -> stored.contains(ticket));
		assertThat(redis.template().opsForValue().get(key)).doesNotContain(ticket);

		try (StreamClient socket = StreamClient.withTicket(cluster.gatewayUrl(1), conversation, ticket)) {
			assertThat(socket.nextOfType("state", BOUND).get("conversation_id").asString()).isEqualTo(conversation);
			assertThat(redis.template().hasKey(key)).as("used up").isFalse();
		}
		assertRefused(StreamClient.withTicket(cluster.gatewayUrl(0), conversation, ticket), "the same ticket again");
	}

	@Test
	void anExpiredTicketIsRefused() {
		Api alice = user(0, "alice");
		String conversation = conversationOf(alice);
		String ticket = ticket(alice, conversation);
		String key = Keys.streamTicket(sha256(ticket));
		// its 30 s run out at once: Redis drops it as it would after the TTL
		redis.template().expire(key, Duration.ofMillis(1));
		await().atMost(BOUND).until(() -> !redis.template().hasKey(key));
		assertRefused(StreamClient.withTicket(cluster.gatewayUrl(0), conversation, ticket), "an expired ticket");
	}

	@Test
	void anotherUsersTicketOpensOnlyHisOwnConversationOfThatId() throws Exception {
		Api alice = user(0, "alice");
		Api bob = user(1, "bob");
		String conversation = conversationOf(alice);
		String bobsTicket = ticket(bob, conversation);
		// conversation ids are per user: bob's ticket opens bob's (empty) conversation
		try (StreamClient socket = StreamClient.withTicket(cluster.gatewayUrl(0), conversation, bobsTicket)) {
			assertThat(socket.nextOfType("state", BOUND).get("messages")).isEmpty();
			assertThat(alice.chat(conversation, 2).status()).isEqualTo(200);
			assertThat(socket.next(Duration.ofMillis(500))).as("nothing of alice's reaches bob").isNull();
		}
		assertRefused(StreamClient.withTicket(cluster.gatewayUrl(0), conversation, "not-a-ticket"), "a made-up one");
	}

	@Test
	void aTicketForAnotherConversationIsRefusedAndUsedUp() throws Exception {
		Api alice = user(0, "alice");
		String first = conversationOf(alice);
		String second = conversationOf(alice);
		String ticket = ticket(alice, first);
		assertRefused(StreamClient.withTicket(cluster.gatewayUrl(1), second, ticket),
				"a ticket for another conversation of the same user");
		assertRefused(StreamClient.withTicket(cluster.gatewayUrl(1), first, ticket), "tried once, gone");
		try (StreamClient socket = StreamClient.withTicket(cluster.gatewayUrl(1), first, ticket(alice, first))) {
			socket.nextOfType("state", BOUND);
		}
	}

	@Test
	void outsideDevAJwtInTheQueryIsRefusedWhileTheHeaderStillWorks() throws Exception {
		Api alice = user(0, "alice");
		String conversation = conversationOf(alice);
		assertRefused(StreamClient.withQueryToken(cluster.gatewayUrl(0), conversation, alice.token()),
				"a valid JWT in the URL");
		try (StreamClient socket = StreamClient.withHeader(cluster.gatewayUrl(0), conversation, alice.token())) {
			socket.nextOfType("state", BOUND);
		}
	}

	@Test
	void twoSocketsRacingWithOneTicketOpenOnlyOne() throws Exception {
		Api alice = user(0, "alice");
		String conversation = conversationOf(alice);
		for (int round = 0; round < 5; round++) {
			String ticket = ticket(alice, conversation);
			CompletableFuture<StreamClient> a = CompletableFuture
				.supplyAsync(() -> StreamClient.withTicket(cluster.gatewayUrl(0), conversation, ticket));
			CompletableFuture<StreamClient> b = CompletableFuture
				.supplyAsync(() -> StreamClient.withTicket(cluster.gatewayUrl(1), conversation, ticket));
			try (StreamClient first = a.join(); StreamClient second = b.join()) {
				assertThat(List.of(opened(first), opened(second))).as("round %d", round)
					.containsExactlyInAnyOrder(true, false);
			}
		}
	}

	@Test
	void ticketsNeedABearerTokenAndAValidConversationId() {
		Api anonymous = Api.withToken(cluster.gatewayUrl(0), null);
		Response unauthenticated = anonymous.streamTicket("c-1");
		assertThat(unauthenticated.status()).isEqualTo(401);
		assertThat(unauthenticated.contentType()).startsWith("application/problem+json");
		Response badId = user(0, "alice").streamTicket("bad*id");
		assertThat(badId.status()).isEqualTo(400);
		assertThat(badId.contentType()).startsWith("application/problem+json");
	}

	@Test
	void thePageIsServedWithSecurityHeadersAndNoInlineScriptOrStyle() throws Exception {
		HttpClient http = HttpClient.newHttpClient();
		HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(cluster.gatewayUrl(0) + "/")).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(page.statusCode()).isEqualTo(200);
		String csp = page.headers().firstValue("Content-Security-Policy").orElse("");
		assertThat(csp).contains("default-src 'self'", "script-src 'self'", "style-src 'self'",
				"frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'");
		assertThat(csp).doesNotContain("unsafe-inline", "unsafe-eval", "*");
		assertThat(page.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
		assertThat(page.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
		assertThat(page.headers().firstValue("X-Frame-Options")).hasValue("DENY");
		// the policy allows no inline code: the page must need none
		String html = page.body();
		assertThat(Pattern.compile("<script(?![^>]*\\bsrc=)[^>]*>", Pattern.CASE_INSENSITIVE).matcher(html).find())
			.as("inline <script>")
			.isFalse();
		assertThat(html).doesNotContainIgnoringCase("<style").doesNotContainIgnoringCase(" style=");
		assertThat(Pattern.compile("\\son[a-z]+\\s*=", Pattern.CASE_INSENSITIVE).matcher(html).find())
			.as("inline event handlers")
			.isFalse();
		for (String path : List.of("/app.js", "/v1/conversations/active")) {
			HttpResponse<String> other = http.send(
					HttpRequest.newBuilder(URI.create(cluster.gatewayUrl(0) + path)).build(),
					HttpResponse.BodyHandlers.ofString());
			assertThat(other.headers().firstValue("X-Content-Type-Options")).as(path).hasValue("nosniff");
			assertThat(other.headers().firstValue("Content-Security-Policy")).as(path).isPresent();
		}
	}

	/** True when the socket got its state, false when it was refused with 1008. */
	private static boolean opened(StreamClient socket) throws InterruptedException {
		long deadline = System.nanoTime() + BOUND.toNanos();
		while (System.nanoTime() < deadline) {
			if (socket.next(Duration.ofMillis(50)) != null) {
				return true;
			}
			int code = socket.closeCode(Duration.ZERO);
			if (code != -1) {
				assertThat(code).isEqualTo(POLICY_VIOLATION);
				return false;
			}
		}
		throw new AssertionError("neither opened nor refused within " + BOUND);
	}

	@Test
	void byDefaultTheActuatorIsOnPort9080AndNotOnTheApiPort() throws Exception {
		try (ServerSocket probe = new ServerSocket()) {
			probe.setReuseAddress(true);
			probe.bind(new InetSocketAddress(9080));
		}
		catch (IOException busy) {
			Assumptions.abort("port 9080 is taken on this machine");
		}
		String[] args = { "--server.port=0", "--spring.data.redis.url=" + TestRedis.shared().url(),
				"--stopline.auth.jwt-secret=" + SECRET, "--spring.main.banner-mode=off", "--logging.level.root=WARN" };
		try (ConfigurableApplicationContext gateway = GatewayApplication.application().run(args)) {
			assertThat(gateway.getEnvironment().getProperty("local.management.port")).isEqualTo("9080");
			String api = "http://127.0.0.1:" + gateway.getEnvironment().getProperty("local.server.port");
			assertThat(Api.withToken("http://127.0.0.1:9080", null).get("/actuator/health").status()).isEqualTo(200);
			assertThat(Api.withToken(api, null).get("/actuator/health").status()).isEqualTo(404);
			assertThat(Api.withToken(api, null).get("/readyz").status()).isEqualTo(200);
		}
	}

	private static void assertRefused(StreamClient socket, String what) {
		try (socket) {
			assertThat(socket.closeCode(BOUND)).as(what).isEqualTo(POLICY_VIOLATION);
			assertThat(socket.next(Duration.ZERO)).as("nothing sent before the close: " + what).isNull();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	private static Api user(int gateway, String name) {
		return Api.withToken(cluster.gatewayUrl(gateway), token(name + "-" + UUID.randomUUID()));
	}

	/** A conversation the user has (one short run in its history). */
	private static String conversationOf(Api api) {
		String conversation = "c-" + UUID.randomUUID();
		assertThat(api.chat(conversation, 2).status()).isEqualTo(200);
		return conversation;
	}

	private static String ticket(Api api, String conversation) {
		Response issued = api.streamTicket(conversation);
		assertThat(issued.status()).isEqualTo(200);
		return issued.json().get("ticket").asString();
	}

	private static String token(String user) {
		try {
			Instant now = Instant.now();
			JWTClaimsSet claims = new JWTClaimsSet.Builder().subject(user)
				.issueTime(Date.from(now))
				.expirationTime(Date.from(now.plus(Duration.ofMinutes(10))))
				.build();
			SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
			jwt.sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
			return jwt.serialize();
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

	private static String sha256(String ticket) {
		try {
			return HexFormat.of()
				.formatHex(MessageDigest.getInstance("SHA-256").digest(ticket.getBytes(StandardCharsets.UTF_8)));
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

}
