package io.stopline.it;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.stopline.it.Api.Response;
import io.stopline.core.schema.ConversationIds;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random ids, headers and bodies thrown at every endpoint of a gateway with two workers:
 * never a 5xx, and afterwards every Redis key that names a conversation names a valid one
 * (no key was ever derived from a rejected input). Seeded: {@code -Dstopline.fuzz.seed=N}
 * replays a run, {@code -Dstopline.fuzz.requests=N} sets its size.
 */
class InputFuzzIntegrationTests {

	private static final Pattern CONVERSATION_IN_KEY = Pattern.compile(":conv:(.*):(messages|stopped|events)$");

	private static final String[] TRICKY = { "", " ", "*", "{", "}", "{u:bob}", "..", "../..", "%", "%2e%2e", "\u0000",
			"\n", "\r\n", "a b", "é", "😀", "?", "#", ";", "\\", "/", "c-1*", "c-{x}", "[a]", "\"", "'", "<script>",
			"x".repeat(129), "x".repeat(128), "-a", "_a", ".a", "a.", "A_b-9.z" };

	@RegisterExtension
	static final Cluster cluster = Cluster.onSharedRedis(1, 2, Map.of(), Map.of("stopline.gateway.max-request-bytes",
			"65536", "stopline.gateway.stop-rate-limit.permits", "1000000"));

	private static Api alice;

	@BeforeAll
	static void signIn() {
		alice = cluster.api(0, "fuzz-alice");
	}

	@AfterAll
	static void stopAll() {
		if (alice != null) {
			alice.stopAll();
		}
	}

	@Test
	void randomInputsNeverCauseA5xxNorReachAKey() {
		long seed = Long.getLong("stopline.fuzz.seed", System.nanoTime());
		int requests = Integer.getInteger("stopline.fuzz.requests", 600);
		Random random = new Random(seed);
		Map<Integer, Integer> statuses = new LinkedHashMap<>();
		for (int i = 0; i < requests; i++) {
			String id = randomId(random);
			String encoded = URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
			String path = switch (random.nextInt(8)) {
				case 0 -> "/v1/conversation/" + encoded + "/stop";
				case 1 -> "/v1/conversation/" + encoded + "/pause";
				case 2 -> "/v1/conversation/" + encoded + "/resume";
				case 3 -> "/v1/conversation/" + encoded;
				case 4 -> "/v1/conversations/stop";
				case 5 -> "/v1/chat/completions";
				case 6 -> "/v1/conversations?limit=" + URLEncoder.encode(randomText(random, 6), StandardCharsets.UTF_8);
				default -> "/v1/conversations/active";
			};
			String method = path.endsWith("/stop") || path.endsWith("/pause") || path.endsWith("/resume")
					|| path.equals("/v1/chat/completions") ? "POST" : "GET";
			Map<String, String> headers = new LinkedHashMap<>();
			headers.put("Authorization",
					random.nextInt(5) == 0 ? "Bearer " + ascii(random, 40) : "Bearer " + alice.token());
			headers.put("Content-Type", random.nextInt(6) == 0 ? ascii(random, 12) : "application/json");
			if (random.nextInt(4) == 0) {
				headers.put("X-Conversation-Id", ascii(random, 20));
			}
			String body = "POST".equals(method) ? randomBody(random, id) : null;
			Response response = alice.raw(method, path, body, headers);
			statuses.merge(response.status(), 1, Integer::sum);
			assertThat(response.status()).as("seed %d, request %d: %s %s %s", seed, i, method, path, body)
				.isLessThan(500);
		}
		System.out.printf("[fuzz] seed %d, %d requests, statuses %s%n", seed, requests, statuses);
		alice.stopAll();

		try (RedisInspector redis = new RedisInspector(TestRedis.shared())) {
			for (String key : redis.keys("stopline:*")) {
				Matcher conversation = CONVERSATION_IN_KEY.matcher(key);
				if (conversation.find()) {
					assertThat(ConversationIds.isValid(conversation.group(1))).as("key %s (seed %d)", key, seed)
						.isTrue();
				}
				assertThat(key.chars().allMatch(c -> c > 0x20 && c < 0x7f)).as("key %s is printable ASCII", key)
					.isTrue();
			}
		}
	}

	private static String randomId(Random random) {
		return switch (random.nextInt(4)) {
			case 0 -> TRICKY[random.nextInt(TRICKY.length)];
			case 1 -> "c-" + random.nextInt(1000);
			case 2 -> randomText(random, 1 + random.nextInt(140));
			default -> TRICKY[random.nextInt(TRICKY.length)] + randomText(random, 5);
		};
	}

	private static String randomBody(Random random, String id) {
		String json = Api.JSON.writeValueAsString(id);
		List<String> bodies = List.of("", "{", "null", "[]", "{}", "\"x\"", randomText(random, 50),
				"{\"conversation_ids\":[" + json + "]}", "{\"conversation_ids\":" + json + "}",
				"{\"conversation_ids\":[1,2,{}]}",
				"{\"model\":" + json + ",\"messages\":[{\"role\":\"user\",\"content\":" + json
						+ "}],\"conversation_id\":" + json + ",\"max_tokens\":2}",
				"{\"model\":\"assistant\",\"messages\":[{\"role\":" + json + ",\"content\":\"x\"}],\"max_tokens\":"
						+ random.nextInt() + "}",
				"{\"model\":\"assistant\",\"messages\":[],\"stream\":" + json + "}",
				"{\"model\":\"assistant\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_duration_seconds\":"
						+ random.nextLong() + ",\"max_tokens\":2}");
		return bodies.get(random.nextInt(bodies.size()));
	}

	/** Printable ASCII, as HTTP header values must be. */
	private static String ascii(Random random, int length) {
		return randomText(random, length).replaceAll("[^\\x20-\\x7e]", "x");
	}

	/** Printable text with the characters that could matter to a key, a path or JSON. */
	private static String randomText(Random random, int length) {
		String alphabet = "abcXYZ019._-*{}[]?/\\:%\"' #é😀";
		StringBuilder text = new StringBuilder();
		for (int i = 0; i < length; i++) {
			text.appendCodePoint(alphabet.codePointAt(
					alphabet.offsetByCodePoints(0, random.nextInt(alphabet.codePointCount(0, alphabet.length())))));
		}
		return text.toString();
	}

}
