package io.stopline.worker.model;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.stopline.protocol.StartRun;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The simulated model's deterministic tool calls: as the prompt says, turn by turn. */
class SimulatedModelToolsTests {

	private final SimulatedModel model = new SimulatedModel(new SimulatedModelProperties(Duration.ZERO, 1, false));

	@Test
	void callsWhatThePromptSaysTurnByTurnThenAnswers() throws Exception {
		StartRun request = request(
				"Please\n/tool t__slow {\"ms\": 10}\n/tool t__echo {\"text\":\"a b\"}\n/then\n/tool t__echo {}");
		List<String> tokens = new ArrayList<>();

		List<ToolRequest> first = model.respond(request, List.of(), List.of(), tokens::add);
		assertThat(first).containsExactly(new ToolRequest("call_0_0", "t__slow", "{\"ms\": 10}"),
				new ToolRequest("call_0_1", "t__echo", "{\"text\":\"a b\"}"));
		List<ToolRequest> second = model.respond(request, List.of(),
				List.of(new ToolRound(first, List.of("slept 10", "a b"))), tokens::add);
		assertThat(second).containsExactly(new ToolRequest("call_1_0", "t__echo", "{}"));
		assertThat(tokens).isEmpty();

		List<ToolRequest> answer = model.respond(request, List.of(),
				List.of(new ToolRound(first, List.of("slept 10", "a b")), new ToolRound(second, List.of("x"))),
				tokens::add);
		assertThat(answer).isEmpty();
		assertThat(tokens).hasSize(1 + 3).first().isEqualTo("[t__echo: x] ");
	}

	@Test
	void withoutDirectivesItAnswersAtOnce() throws Exception {
		List<String> tokens = new ArrayList<>();

		assertThat(model.respond(request("Tell me a story"), List.of(), List.of(), tokens::add)).isEmpty();
		assertThat(tokens).hasSize(3);
	}

	private static StartRun request(String prompt) {
		return new StartRun("r1", "u1", "c1", "assistant", List.of(new StartRun.ChatMessage("user", prompt)), 3, "g1",
				Instant.now(), null);
	}

}
