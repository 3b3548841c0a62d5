package io.stopline.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The authorization matrix on one gateway (issuer and audience configured) and two
 * workers: every endpoint times every kind of bad token is a 401 problem detail, another
 * user's valid token finds nothing of the owner's (404, or an empty answer for listings)
 * and changes nothing, only the owner's token acts; the admin role acts on anyone's run,
 * audited. Also: input validation naming fields, the body size limit, CORS and the
 * WebSocket origin check.
 */
class SecurityIntegrationTests {

	private static final String ISSUER = "https://id.stopline.test";

	private static final String AUDIENCE = "stopline-api";

	private static final Duration BOUND = Duration.ofSeconds(10);

	@RegisterExtension
	static final Cluster cluster = Cluster.onSharedRedis(1, 2, Map.of(),
			Map.of("stopline.auth.issuer", ISSUER, "stopline.auth.audience", AUDIENCE,
					"stopline.gateway.allowed-origins", "https://chat.example.com",
					"stopline.gateway.max-request-bytes", "65536", "stopline.gateway.max-streams-per-user", "3",
					// admins are dev tokens with a role: allowed explicitly
					"stopline.auth.dev-tokens.allow-roles", "true"));

	/** One endpoint of the API, with what it needs to be called. */
	private record Endpoint(String method, String path, String body) {

		@Override
		public String toString() {
			return method + " " + path;
		}
	}

	private static List<Endpoint> endpoints(String conversation) {
		String chat = "{\"model\":\"assistant\",\"max_tokens\":3,\"conversation_id\":\"" + conversation
				+ "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
		return List.of(new Endpoint("POST", "/v1/chat/completions", chat),
				new Endpoint("POST", "/v1/conversation/" + conversation + "/stop", null),
				new Endpoint("POST", "/v1/conversation/" + conversation + "/pause", null),
				new Endpoint("POST", "/v1/conversation/" + conversation + "/resume", null),
				new Endpoint("POST", "/v1/conversations/stop", null),
				new Endpoint("POST", "/v1/conversations/stop", "{\"conversation_ids\":[\"" + conversation + "\"]}"),
				new Endpoint("GET", "/v1/conversations/active", null),
				new Endpoint("GET", "/v1/conversation/" + conversation, null),
				new Endpoint("GET", "/v1/conversations", null), new Endpoint("GET", "/v1/auth/whoami", null),
				new Endpoint("GET", "/v1/admin/audit/stops", null),
				new Endpoint("GET", "/v1/admin/conversations/active?user=alice", null),
				new Endpoint("POST", "/v1/admin/conversation/" + conversation + "/stop?user=alice", null),
				new Endpoint("GET", "/v1/stats/stops", null),
				new Endpoint("GET", "/v1/conversation/" + conversation + "/runs/run-1/stream", null),
				new Endpoint("POST", "/v1/stream-tickets", "{\"conversation_id\":\"" + conversation + "\"}"));
	}

	@Test
	void everyBadTokenIsA401OnEveryEndpointAndOnTheSocket() throws Exception {
		Api owner = cluster.api(0, "owner-" + UUID.randomUUID());
		String conversation = "c-" + UUID.randomUUID();
		ChatStream run = owner.chatStream(conversation, 5000);
		assertThat(run.next(BOUND)).isNotNull();

		Map<String, String> badTokens = badTokens(owner.userId());
		for (Map.Entry<String, String> bad : badTokens.entrySet()) {
			for (Endpoint endpoint : endpoints(conversation)) {
				Map<String, String> headers = new LinkedHashMap<>();
				headers.put("Content-Type", "application/json");
				if (bad.getValue() != null) {
					headers.put("Authorization", "Bearer " + bad.getValue());
				}
				Response response = Api.withToken(cluster.gatewayUrl(0), null)
					.raw(endpoint.method(), endpoint.path(), endpoint.body(), headers);
				assertThat(response.status()).as("%s with %s", endpoint, bad.getKey()).isEqualTo(401);
				assertThat(response.contentType()).as("%s with %s", endpoint, bad.getKey())
					.startsWith("application/problem+json");
				// (the problem's instance echoes the caller's own request path)
				assertThat(response.json().get("detail").asString()).doesNotContain(conversation);
				assertThat(response.body()).doesNotContain(owner.userId());
			}
			try (StreamClient socket = bad.getValue() == null
					? StreamClient.withoutToken(cluster.gatewayUrl(0), conversation)
					: StreamClient.withQueryToken(cluster.gatewayUrl(0), conversation, bad.getValue())) {
				assertThat(socket.closeCode(BOUND)).as("socket with %s", bad.getKey()).isEqualTo(1008);
				assertThat(socket.next(Duration.ZERO)).isNull();
			}
		}

		JsonNode active = owner.active().json().get("active_conversations");
		assertThat(active.has(conversation)).as("nothing touched the owner's run").isTrue();
		assertThat(owner.stop(conversation).status()).as("the owner's token acts").isEqualTo(200);
		System.out.printf("[auth] %d bad tokens x %d endpoints + socket: all 401/1008%n", badTokens.size(),
				endpoints(conversation).size());
	}

	@Test
	void anotherUsersValidTokenFindsNothingAndChangesNothing() throws Exception {
		Api owner = cluster.api(0, "owner-" + UUID.randomUUID());
		Api other = cluster.api(0, "other-" + UUID.randomUUID());
		String conversation = "c-" + UUID.randomUUID();
		ChatStream run = owner.chatStream(conversation, 5000);
		assertThat(run.next(BOUND)).isNotNull();
		String history = owner.history(conversation).body();

		assertThat(other.stop(conversation).status()).isEqualTo(404);
		assertThat(other.pause(conversation).status()).isEqualTo(404);
		assertThat(other.resume(conversation).status()).isEqualTo(404);
		assertThat(other.history(conversation).status()).isEqualTo(404);
		assertThat(other.active().json().get("active_conversations").size()).isZero();
		assertThat(other.get("/v1/conversations").json().get("conversations").size()).isZero();
		JsonNode all = other.stopAll().json();
		assertThat(all.get("stopped").size()).isZero();
		JsonNode some = other.stopOnly(List.of(conversation)).json();
		assertThat(some.get("not_active").get(0).asString()).isEqualTo(conversation);
		assertThat(other.get("/v1/admin/conversations/active?user=" + owner.userId()).status()).isEqualTo(403);
		assertThat(other.get("/v1/admin/audit/stops").status()).isEqualTo(403);
		// conversation ids are per user: the other user's socket opens his own, empty
		// conversation of that id and hears nothing of the owner's run
		try (StreamClient socket = StreamClient.withQueryToken(cluster.gatewayUrl(0), conversation, other.token())) {
			JsonNode state = socket.nextOfType("state", BOUND);
			assertThat(state.get("messages")).isEmpty();
			assertThat(state.get("active_run").isNull()).isTrue();
			assertThat(socket.next(Duration.ofMillis(500))).isNull();
		}

		// the same 404 wording, and no timing difference worth probing, for another
		// user's conversation and one that does not exist
		String ownersDetail = other.stop(conversation).json().get("detail").asString();
		String unknownDetail = other.stop("c-unknown").json().get("detail").asString();
		assertThat(ownersDetail.replace(conversation, "X")).isEqualTo(unknownDetail.replace("c-unknown", "X"));
		double[] medians = interleavedMediansMillis(() -> other.history(conversation),
				() -> other.history("c-" + UUID.randomUUID()));
		double owners = medians[0];
		double unknown = medians[1];
		System.out.printf("[auth] 404 median: another user's conversation %.2f ms, unknown %.2f ms%n", owners, unknown);
		assertThat(Math.abs(owners - unknown)).isLessThan(2.0);

		assertThat(owner.history(conversation).body()).isEqualTo(history);
		assertThat(owner.active().json().get("active_conversations").has(conversation)).isTrue();
		assertThat(owner.stop(conversation).status()).isEqualTo(200);
	}

	@Test
	void anAdminListsAndStopsAnyUsersRunAndIsAudited() throws Exception {
		Api owner = cluster.api(0, "owner-" + UUID.randomUUID());
		Api admin = Api.forAdmin(cluster.gatewayUrl(0), "admin-" + UUID.randomUUID());
		String conversation = "c-" + UUID.randomUUID();
		ChatStream run = owner.chatStream(conversation, 5000);
		assertThat(run.next(BOUND)).isNotNull();
		try (StreamClient socket = StreamClient.withHeader(cluster.gatewayUrl(0), conversation, owner.token())) {
			socket.nextOfType("state", BOUND);

			JsonNode listed = admin.get("/v1/admin/conversations/active?user=" + owner.userId())
				.json()
				.get("active_conversations");
			assertThat(listed.has(conversation)).isTrue();
			Response stopped = Api.withToken(cluster.gatewayUrl(0), admin.token())
				.raw("POST", "/v1/admin/conversation/" + conversation + "/stop?user=" + owner.userId(), null,
						Map.of("Authorization", "Bearer " + admin.token()));
			assertThat(stopped.status()).isEqualTo(200);

			assertThat(socket.nextOfType("run_stopped", BOUND).get("reason").asString()).isEqualTo("admin");
		}
		JsonNode messages = owner.history(conversation).json().get("messages");
		assertThat(messages.get(messages.size() - 1).get("content").asString())
			.isEqualTo("Conversation stopped by an administrator.");
		org.awaitility.Awaitility.await()
			.atMost(BOUND)
			.until(() -> !admin.get("/v1/admin/audit/stops?user=" + owner.userId()).json().get("stops").isEmpty());
		JsonNode audit = admin.get("/v1/admin/audit/stops?user=" + owner.userId()).json().get("stops").get(0);
		assertThat(audit.get("by").asString()).isEqualTo(admin.userId());
		assertThat(audit.get("reason").asString()).isEqualTo("admin");
		assertThat(audit.get("outcome").asString()).isEqualTo("confirmed");
	}

	@Test
	void badBodiesAre400ProblemDetailsNamingTheField() {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		Map<String, String> headers = Map.of("Authorization", "Bearer " + alice.token(), "Content-Type",
				"application/json");
		Map<String, String> cases = new LinkedHashMap<>();
		cases.put(
				"{\"model\":\"assistant\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":\"x\"}",
				"max_tokens: expected an integer");
		cases.put("{\"model\":\"assistant\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":-1}",
				"max_tokens: must be greater than 0");
		cases.put("{\"model\":\"assistant\",\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}",
				"messages[0].role: must be one of system, user, assistant, tool");
		cases.put("{\"model\":\"assistant\",\"messages\":{}}", "messages: expected an array");
		cases.put("{\"model\":\"assistant\",\"messages\":[{\"role\":\"user\"}]}",
				"messages[0].content: must not be null");
		cases.put("{\"model\":\"assistant\",", "The body is not valid JSON");
		cases.put("", "A JSON body is required");
		cases.put("{\"model\":\"assistant\",\"stream\":\"yes\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
				"stream: expected true or false");
		for (Map.Entry<String, String> bad : cases.entrySet()) {
			Response response = alice.raw("POST", "/v1/chat/completions", bad.getKey(), headers);
			assertThat(response.status()).as(bad.getKey()).isEqualTo(400);
			assertThat(response.contentType()).startsWith("application/problem+json");
			assertThat(response.json().get("detail").asString()).as(bad.getKey()).contains(bad.getValue());
		}
		Response bulk = alice.raw("POST", "/v1/conversations/stop", "{\"conversation_ids\":[\"ok\",\"bad*id\"]}",
				headers);
		assertThat(bulk.status()).isEqualTo(400);
		assertThat(bulk.json().get("detail").asString()).contains("Invalid conversation id");
		for (String id : List.of("bad*id", "a%7Bb%7D", "..", "%2e%2e", "x".repeat(129), "a%00b", "a%0Ab")) {
			assertThat(alice.stop(id).status()).as(id).isIn(400, 404);
		}
	}

	@Test
	void oneUserCannotHoldMoreThanTheAllowedSocketsOpen() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		String conversation = "c-" + UUID.randomUUID();
		alice.chatStream(conversation, 2).drain(BOUND);
		List<StreamClient> open = new java.util.ArrayList<>();
		try {
			for (int i = 0; i < 3; i++) {
				StreamClient socket = StreamClient.withQueryToken(cluster.gatewayUrl(0), conversation, alice.token());
				open.add(socket);
				assertThat(socket.nextOfType("state", BOUND)).isNotNull();
			}
			try (StreamClient fourth = StreamClient.withQueryToken(cluster.gatewayUrl(0), conversation,
					alice.token())) {
				assertThat(fourth.closeCode(BOUND)).isEqualTo(1008);
			}
			open.remove(0).close();
			// a closed one frees its place
			org.awaitility.Awaitility.await().atMost(BOUND).untilAsserted(() -> {
				try (StreamClient again = StreamClient.withQueryToken(cluster.gatewayUrl(0), conversation,
						alice.token())) {
					assertThat(again.next(Duration.ofSeconds(2))).isNotNull();
				}
			});
		}
		finally {
			open.forEach(StreamClient::close);
		}
	}

	@Test
	void bodiesOverTheLimitAre413() {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		String big = "{\"model\":\"assistant\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(70_000)
				+ "\"}]}";
		Response response = alice.raw("POST", "/v1/chat/completions", big,
				Map.of("Authorization", "Bearer " + alice.token(), "Content-Type", "application/json"));
		assertThat(response.status()).isEqualTo(413);
		assertThat(response.contentType()).startsWith("application/problem+json");
	}

	@Test
	void corsAnswersOnlyTheConfiguredOriginAndSocketsRefuseOthers() throws Exception {
		Api alice = cluster.api(0, "alice-" + UUID.randomUUID());
		Map<String, String> preflight = new LinkedHashMap<>();
		preflight.put("Origin", "https://chat.example.com");
		preflight.put("Access-Control-Request-Method", "POST");
		preflight.put("Access-Control-Request-Headers", "authorization,content-type");
		Response allowed = alice.raw("OPTIONS", "/v1/conversations/stop", null, preflight);
		assertThat(allowed.status()).isEqualTo(200);
		preflight.put("Origin", "https://evil.example.com");
		Response refused = alice.raw("OPTIONS", "/v1/conversations/stop", null, preflight);
		assertThat(refused.status()).isEqualTo(403);

		String conversation = "c-" + UUID.randomUUID();
		alice.chatStream(conversation, 2).drain(BOUND);
		java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
		String ws = cluster.gatewayUrl(0).replaceFirst("^http", "ws") + "/v1/conversation/" + conversation
				+ "/stream?token=" + alice.token();
		assertThat(http.newWebSocketBuilder()
			.header("Origin", "https://evil.example.com")
			.buildAsync(java.net.URI.create(ws), new java.net.http.WebSocket.Listener() {
			})
			.handle((socket, error) -> error != null)
			.join()).as("handshake from a foreign origin refused").isTrue();
		java.net.http.WebSocket good = http.newWebSocketBuilder()
			.header("Origin", "https://chat.example.com")
			.buildAsync(java.net.URI.create(ws), new java.net.http.WebSocket.Listener() {
			})
			.join();
		good.abort();
	}

	/**
	 * The median time of each call, taken in turns so that the shared machine's load,
	 * which changes over seconds, weighs on both alike.
	 */
	private static double[] interleavedMediansMillis(Runnable first, Runnable second) {
		for (int i = 0; i < 20; i++) {
			first.run();
			second.run();
		}
		double[][] samples = new double[2][101];
		Runnable[] calls = { first, second };
		for (int i = 0; i < samples[0].length; i++) {
			for (int turn = 0; turn < 2; turn++) {
				int which = (i + turn) % 2; // each goes first half the time
				long started = System.nanoTime();
				calls[which].run();
				samples[which][i] = (System.nanoTime() - started) / 1e6;
			}
		}
		Arrays.sort(samples[0]);
		Arrays.sort(samples[1]);
		return new double[] { samples[0][50], samples[1][50] };
	}

	/** Every kind of token that must not get in, by name (null: no token at all). */
	private static Map<String, String> badTokens(String user) throws Exception {
		byte[] secret = Cluster.JWT_SECRET.getBytes(StandardCharsets.UTF_8);
		Instant now = Instant.now();
		Map<String, String> tokens = new LinkedHashMap<>();
		tokens.put("no token", null);
		tokens.put("malformed", "not.a.jwt");
		tokens.put("garbage", "Zm9v");
		tokens.put("wrong signature",
				hs256(claims(user, now).build(), "another-secret-of-at-least-32-bytes-long!!".getBytes()));
		tokens.put("alg none", new PlainJWT(claims(user, now).build()).serialize());
		tokens.put("expired",
				hs256(claims(user, now).expirationTime(Date.from(now.minus(Duration.ofMinutes(5)))).build(), secret));
		tokens.put("not yet valid",
				hs256(claims(user, now).notBeforeTime(Date.from(now.plus(Duration.ofMinutes(5)))).build(), secret));
		tokens.put("wrong issuer", hs256(claims(user, now).issuer("https://evil.test").build(), secret));
		tokens.put("no issuer", hs256(claims(user, now).issuer(null).build(), secret));
		tokens.put("wrong audience", hs256(claims(user, now).audience("someone-else").build(), secret));
		tokens.put("no expiry", hs256(claims(user, now).expirationTime(null).build(), secret));
		tokens.put("no subject", hs256(claims(user, now).subject(null).build(), secret));
		String valid = hs256(claims(user, now).build(), secret);
		String[] parts = valid.split("\\.");
		tokens.put("tampered payload", parts[0] + "." + java.util.Base64.getUrlEncoder()
			.withoutPadding()
			.encodeToString(("{\"sub\":\"admin\",\"iss\":\"" + ISSUER + "\",\"aud\":\"" + AUDIENCE + "\",\"exp\":"
					+ (now.getEpochSecond() + 600) + ",\"roles\":[\"admin\"]}")
				.getBytes(StandardCharsets.UTF_8)) + "." + parts[2]);
		return tokens;
	}

	private static JWTClaimsSet.Builder claims(String user, Instant now) {
		return new JWTClaimsSet.Builder().subject(user)
			.issuer(ISSUER)
			.audience(AUDIENCE)
			.issueTime(Date.from(now))
			.expirationTime(Date.from(now.plus(Duration.ofMinutes(10))));
	}

	private static String hs256(JWTClaimsSet claims, byte[] secret) throws Exception {
		SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
		jwt.sign(new MACSigner(secret));
		return jwt.serialize();
	}

}
