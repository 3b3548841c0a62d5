package io.stopline.worker.model;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

import io.stopline.protocol.StartRun;

import org.springframework.stereotype.Component;

/**
 * A model without a model: streams words of a fixed text, one per delay (or {@code burst}
 * at a time), until {@code max_tokens}.
 * <p>
 * With tools it calls them deterministically, as the last user message says: each line
 * {@code /tool <name> <json arguments>} is a call; consecutive lines are called together
 * (in parallel) in one turn, and a line {@code /then} starts the next turn. Once every
 * turn has its results it answers: first each result of the last turn as a token
 * ({@code "[<name>: <result>]"}), then the usual words.
 */
@Component
final class SimulatedModel implements ChatModel {

	private static final String[] WORDS = ("Stopline keeps every stop honest: the request reaches the worker that "
			+ "owns the run, the generation ends at once, the partial answer stays in the history, and the user "
			+ "gets a confirmation. ")
		.split(" ");

	private final SimulatedModelProperties properties;

	SimulatedModel(SimulatedModelProperties properties) {
		this.properties = properties;
	}

	@Override
	public void generate(StartRun request, TokenSink sink) throws InterruptedException {
		Duration burstDelay = properties.tokenDelay().multipliedBy(properties.burst());
		for (int i = 0; i < request.maxTokens(); i++) {
			if (i % properties.burst() == 0) {
				if (burstDelay.isPositive()) {
					Thread.sleep(burstDelay);
				}
				else if (Thread.interrupted()) {
					throw new InterruptedException();
				}
			}
			sink.accept(token(i));
		}
	}

	@Override
	public List<ToolRequest> respond(StartRun request, List<ToolDefinition> tools, List<ToolRound> rounds,
			TokenSink sink) throws InterruptedException {
		List<List<ToolRequest>> turns = turns(request);
		if (rounds.size() < turns.size()) {
			return turns.get(rounds.size());
		}
		if (!rounds.isEmpty()) {
			ToolRound last = rounds.getLast();
			for (int i = 0; i < last.requests().size(); i++) {
				sink.accept("[" + last.requests().get(i).name() + ": " + last.results().get(i) + "] ");
			}
		}
		generate(request, sink);
		return List.of();
	}

	/** The tool calls the last user message asks for, turn by turn. */
	static List<List<ToolRequest>> turns(StartRun request) {
		String prompt = request.messages()
			.reversed()
			.stream()
			.filter(message -> "user".equals(message.role()))
			.map(StartRun.ChatMessage::content)
			.findFirst()
			.orElse("");
		List<List<ToolRequest>> turns = new ArrayList<>();
		List<ToolRequest> turn = new ArrayList<>();
		for (String line : prompt.lines().map(String::strip).toList()) {
			if (line.equals("/then") && !turn.isEmpty()) {
				turns.add(List.copyOf(turn));
				turn.clear();
			}
			else if (line.startsWith("/tool ")) {
				String[] parts = line.substring("/tool ".length()).strip().split("\\s+", 2);
				String id = "call_" + turns.size() + "_" + turn.size();
				turn.add(new ToolRequest(id, parts[0], parts.length > 1 ? parts[1] : "{}"));
			}
		}
		if (!turn.isEmpty()) {
			turns.add(List.copyOf(turn));
		}
		return turns;
	}

	private String token(int i) {
		if (properties.clockTokens()) {
			return " " + ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
		}
		return (i == 0 ? "" : " ") + WORDS[i % WORDS.length];
	}

}
