package io.stopline.it;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import io.stopline.it.Api.ChatStream;
import io.stopline.it.Api.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Output limits per agent: {@code max_tokens} is bounded by the agent's own limit
 * ({@code stopline.agents.max-tokens.<agent>}), else by the default (32,768, the
 * simulated model's); a request above it is a 400 problem detail naming the limit.
 */
class AgentLimitsIntegrationTests {

	private static final Duration BOUND = Duration.ofSeconds(10);

	@RegisterExtension
	static final Cluster cluster = Cluster.onSharedRedis(1, 1, Map.of(),
			Map.of("stopline.agents.names", "assistant,long", "stopline.agents.max-tokens.long", "200000",
					"stopline.agents.max-tokens.assistant", "1000"));

	@Test
	void eachAgentHasItsOwnLimitAndARequestAboveItIsA400NamingIt() throws Exception {
		Api alice = cluster.api(0, "limits-" + UUID.randomUUID());
		Response tooMany = chat(alice, "assistant", 1001);
		assertThat(tooMany.status()).isEqualTo(400);
		assertThat(tooMany.contentType()).startsWith("application/problem+json");
		assertThat(tooMany.json().get("detail").asString())
			.isEqualTo("max_tokens: must be at most 1000 for agent assistant.");
		// an agent without a limit of its own has the default
		Response unlisted = chat(alice, "other", 32_769);
		assertThat(unlisted.status()).isEqualTo(400);
		assertThat(unlisted.json().get("detail").asString()).contains("at most 32768 for agent other");
		assertThat(alice.history("c-none").status()).as("nothing reserved").isEqualTo(404);

		// above the old fixed 32,768 for the agent whose model allows it
		String conversation = "c-" + UUID.randomUUID();
		ChatStream run = alice.chatStream(conversation, 1, Map.of("model", "long", "max_tokens", 100_000));
		assertThat(run.next(BOUND)).isNotNull();
		assertThat(run.status).isEqualTo(200);
		assertThat(alice.stop(conversation).status()).isIn(200, 202);
		run.drain(BOUND);

		JsonNode agents = alice.get("/v1/agents").json().get("agents");
		assertThat(agents.get(0).get("name").asString()).isEqualTo("assistant");
		assertThat(agents.get(0).get("max_tokens").asInt()).isEqualTo(1000);
		assertThat(agents.get(1).get("max_tokens").asInt()).isEqualTo(200_000);
	}

	private static Response chat(Api api, String agent, int maxTokens) {
		return api.raw("POST", "/v1/chat/completions",
				"{\"model\":\"" + agent + "\",\"max_tokens\":" + maxTokens
						+ ",\"conversation_id\":\"c-none\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
				Map.of("Authorization", "Bearer " + api.token(), "Content-Type", "application/json"));
	}

}
