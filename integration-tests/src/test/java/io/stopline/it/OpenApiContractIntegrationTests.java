package io.stopline.it;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Recorded;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The OpenAPI description the gateway serves, checked against what the gateways really
 * answer: the multi-node scenarios (two gateways, two workers: chat, the stop endpoints,
 * stop-all, the active listing, history, the problem details) run through the same
 * {@link Api} client, which records every response; each one must match a documented
 * operation, status and media type, and its body must validate against the documented
 * schema (JSON Schema 2020-12, as OpenAPI 3.1 defines it). The WebSocket events validate
 * against the schema served beside it.
 */
class OpenApiContractIntegrationTests {

	private static final Duration BOUND = Duration.ofSeconds(10);

	private static final SchemaRegistry SCHEMAS = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

	// admin dev tokens for the admin endpoints
	@RegisterExtension
	static final Cluster cluster = Cluster.onSharedRedis(2, 2, Map.of(),
			Map.of("stopline.auth.dev-tokens.allow-roles", "true"));

	private static JsonNode document;

	private final List<Recorded> recorded = new CopyOnWriteArrayList<>();

	@BeforeAll
	static void readDocument() throws IOException {
		Api.Response docs = Api.withToken(cluster.gatewayUrl(0), "none").raw("GET", "/v3/api-docs", null, Map.of());
		assertThat(docs.status()).isEqualTo(200);
		document = Api.JSON.readTree(docs.body());
		Path copy = Path.of("target", "openapi.json");
		Files.writeString(copy, Api.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(document));
	}

	@AfterAll
	static void stopRecording() {
		Api.recorder = (response) -> {
		};
	}

	@Test
	void theDescriptionIsOpenApi31AndDescribesEveryOperationItServes() {
		assertThat(document.get("openapi").asString()).startsWith("3.1");
		List<String> undescribed = new ArrayList<>();
		document.get("paths").properties().forEach((path) -> path.getValue().properties().forEach((operation) -> {
			JsonNode responses = operation.getValue().get("responses");
			// ApiDescription adds 500 to every operation it describes from
			// openapi/responses.json
			if (!path.getKey().endsWith("/stream") && (responses == null || !responses.has("500"))) {
				undescribed.add(operation.getKey().toUpperCase() + " " + path.getKey());
			}
		}));
		assertThat(undescribed).as("operations missing from gateway/src/main/resources/openapi/responses.json")
			.isEmpty();
		assertThat(document.at("/paths/~1v1~1conversation~1{conversationId}~1stream/get").isMissingNode()).isFalse();
		assertThat(document.at("/components/schemas/Problem/required").toString()).contains("status");
		assertThat(document.at("/components/schemas/Problem/required").toString()).doesNotContain("type");
	}

	@Test
	void theUiIsServedInTheDevProfile() {
		Api.Response ui = Api.withToken(cluster.gatewayUrl(0), "none")
			.raw("GET", "/swagger-ui/index.html", null, Map.of());
		assertThat(ui.status()).isEqualTo(200);
		assertThat(ui.body()).contains("swagger");
	}

	@Test
	void outsideTheDevProfileNeitherTheDescriptionNorItsUiIsServed() {
		try (Cluster production = Cluster.start(TestRedis.shared(), 1, 0, Map.of(), Map.of("spring.profiles.active",
				"production", "stopline.auth.jwt-secret", UUID.randomUUID() + "-" + UUID.randomUUID()))) {
			Api anonymous = Api.withToken(production.gatewayUrl(0), "none");
			assertThat(anonymous.raw("GET", "/v3/api-docs", null, Map.of()).status()).isEqualTo(404);
			assertThat(anonymous.raw("GET", "/swagger-ui/index.html", null, Map.of()).status()).isEqualTo(404);
		}
	}

	@Test
	void recordedResponsesOfTheMultiNodeScenariosMatchTheDescription() throws Exception {
		Api.recorder = recorded::add;
		String gateway0 = cluster.gatewayUrl(0);
		String gateway1 = cluster.gatewayUrl(1);
		Api alice = Api.forUser(gateway0, "openapi-" + UUID.randomUUID());
		Api aliceThere = alice.at(gateway1);
		Api admin = Api.forAdmin(gateway1, "openapi-admin-" + UUID.randomUUID());

		alice.get("/v1/agents");
		alice.get("/v1/auth/whoami");

		// a run, listed through the other gateway, a second chat on it (409), stopped
		// through the other gateway
		String first = "oa-" + UUID.randomUUID();
		ChatStream stream = alice.chatStream(first, 5000);
		await().atMost(BOUND).until(() -> aliceThere.active().body().contains(first));
		List<JsonNode> events = new ArrayList<>();
		try (StreamClient socket = StreamClient.withHeader(gateway1, first, alice.token())) {
			assertThat(alice.chat(first, 5).status()).isEqualTo(409);
			alice.pause(first);
			alice.resume(first);
			assertThat(aliceThere.stop(first).status()).isEqualTo(200);
			assertThat(aliceThere.stop(first).status()).as("already stopped").isEqualTo(200);
			// every event up to the stop: state, snapshot or tokens, paused, resumed,
			// run_stopped
			JsonNode event;
			do {
				event = socket.next(BOUND);
				assertThat(event).as("an event within %s", BOUND).isNotNull();
				events.add(event);
			}
			while (!event.get("type").asString().equals("run_stopped"));
		}
		List<String> chunks = new ArrayList<>(stream.drain(BOUND));
		alice.history(first);
		// the stopped run's stream resumed through the other gateway, and its problems
		String runId = stream.idOfLast().substring(0, stream.idOfLast().lastIndexOf(':'));
		chunks.addAll(aliceThere.resumeStream(first, runId, runId + ":0").drain(BOUND));
		aliceThere.get("/v1/conversation/" + first + "/runs/run-unknown/stream");
		aliceThere.get("/v1/conversation/" + first + "/runs/" + runId + "/stream?starting_after=x");

		// stop-all, with and without a list
		String second = "oa-" + UUID.randomUUID();
		String third = "oa-" + UUID.randomUUID();
		alice.chatStream(second, 5000);
		ChatStream last = alice.chatStream(third, 5000);
		await().atMost(BOUND).until(() -> alice.active().body().contains(third));
		alice.stopOnly(List.of(second, "oa-never-ran"));
		alice.stopAll();
		last.drain(BOUND);

		// a short non-streaming chat, the listings, the admin endpoints
		alice.chat("oa-" + UUID.randomUUID(), 3);
		alice.get("/v1/conversations");
		admin.get("/v1/stats/stops");
		admin.get("/v1/admin/audit/stops?limit=5");
		admin.get("/v1/admin/conversations/active?user=" + alice.userId());
		admin.raw("POST", "/v1/admin/conversation/oa-none/stop?user=" + alice.userId(), null,
				Map.of("Authorization", "Bearer " + admin.token()));

		// problem details: 400, 401, 403, 404, 413, 429
		alice.stop("bad*id");
		alice.stop("oa-unknown");
		alice.history("oa-unknown");
		alice.get("/v1/conversations?limit=0");
		alice.get("/v1/stats/stops");
		alice.raw("POST", "/v1/chat/completions", "{\"model\":\"assistant\",\"messages\":[{\"role\":\"robot\"}]}",
				Map.of("Authorization", "Bearer " + alice.token(), "Content-Type", "application/json"));
		alice.raw("POST", "/v1/chat/completions", "x".repeat(1_100_000),
				Map.of("Authorization", "Bearer " + alice.token(), "Content-Type", "application/json"));
		Api.withToken(gateway0, "not-a-token").active();
		for (int i = 0; i < 30; i++) {
			alice.stop("oa-unknown");
		}
		Api.recorder = (response) -> {
		};

		assertThat(recorded).extracting(Recorded::status).contains(200, 400, 401, 403, 404, 409, 413, 429);
		List<String> mismatches = new ArrayList<>();
		for (Recorded response : recorded) {
			mismatches.addAll(check(response));
		}
		assertThat(mismatches).as("responses that do not match the description").isEmpty();
		System.out.println("[openapi] " + recorded.size() + " recorded responses valid: " + new TreeSet<>(
				recorded.stream().map((r) -> r.method() + " " + template(r.path()) + " " + r.status()).toList()));

		Schema chunk = schema(ref("ChatCompletionChunk"));
		for (String data : chunks) {
			if (!data.equals("[DONE]")) {
				assertThat(chunk.validate(Api.JSON.readTree(data))).as("chunk %s", data).isEmpty();
			}
		}
		Schema streamEvents = streamEventsSchema();
		for (JsonNode event : events) {
			assertThat(streamEvents.validate(event)).as("WebSocket event %s", event).isEmpty();
		}
	}

	private List<String> check(Recorded response) {
		String path = template(response.path());
		JsonNode operation = document.get("paths").path(path).path(response.method().toLowerCase());
		String what = response.method() + " " + response.path() + " → " + response.status();
		if (operation.isMissingNode()) {
			return List.of(what + ": no such operation");
		}
		JsonNode described = operation.get("responses").path(Integer.toString(response.status()));
		if (described.isMissingNode()) {
			return List.of(what + ": status not described");
		}
		String mediaType = response.contentType().split(";")[0].trim();
		JsonNode content = described.path("content").path(mediaType);
		if (content.isMissingNode()) {
			return List.of(what + ": media type " + mediaType + " not described");
		}
		if (response.body() == null) {
			return List.of();
		}
		List<Error> errors = schema(content.get("schema")).validate(Api.JSON.readTree(response.body()));
		return errors.stream().map((error) -> what + ": " + error.getMessage() + " in " + response.body()).toList();
	}

	/**
	 * The described path for a request path: {@code /v1/conversation/c-1/stop} → its
	 * template.
	 */
	private static String template(String path) {
		for (String candidate : document.get("paths").propertyNames()) {
			String pattern = candidate.replaceAll("\\{[^/]+}", "[^/]+");
			if (path.matches(pattern)) {
				return candidate;
			}
		}
		return path;
	}

	/**
	 * A schema of the description, its $refs resolved inside the description's
	 * components.
	 */
	private static Schema schema(JsonNode inline) {
		ObjectNode root = Api.JSON.createObjectNode();
		root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
		root.set("allOf", Api.JSON.createArrayNode().add(inline));
		root.set("components", document.get("components"));
		return SCHEMAS.getSchema(root.toString());
	}

	private static JsonNode ref(String name) {
		return Api.JSON.createObjectNode().put("$ref", "#/components/schemas/" + name);
	}

	private static Schema streamEventsSchema() throws IOException {
		try (InputStream in = OpenApiContractIntegrationTests.class
			.getResourceAsStream("/static/api/stream-events.schema.json")) {
			return SCHEMAS.getSchema(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
		}
	}

}
