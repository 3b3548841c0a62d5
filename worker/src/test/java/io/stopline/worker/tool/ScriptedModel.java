package io.stopline.worker.tool;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import io.stopline.protocol.StartRun;
import io.stopline.worker.model.ChatModel;
import io.stopline.worker.model.ToolDefinition;
import io.stopline.worker.model.ToolRequest;
import io.stopline.worker.model.ToolRound;

/**
 * A model for the tool loop's tests: asks for the given calls turn by turn, then answers
 * with {@code answerTokens} tokens, one per {@code tokenDelay}. Remembers what it was
 * offered and the results it read.
 */
final class ScriptedModel implements ChatModel {

	private final List<List<ToolRequest>> turns;

	private final int answerTokens;

	private final Duration tokenDelay;

	final AtomicInteger turnsTaken = new AtomicInteger();

	final List<String> offered = new CopyOnWriteArrayList<>();

	final List<String> results = new CopyOnWriteArrayList<>();

	ScriptedModel(List<List<ToolRequest>> turns, int answerTokens, Duration tokenDelay) {
		this.turns = turns;
		this.answerTokens = answerTokens;
		this.tokenDelay = tokenDelay;
	}

	static ToolRequest call(String id, String tool, String arguments) {
		return new ToolRequest(id, "t__" + tool, arguments);
	}

	@Override
	public void generate(StartRun request, TokenSink sink) throws InterruptedException {
		for (int i = 0; i < answerTokens; i++) {
			Thread.sleep(tokenDelay);
			sink.accept(" w" + i);
		}
	}

	@Override
	public List<ToolRequest> respond(StartRun request, List<ToolDefinition> tools, List<ToolRound> rounds,
			TokenSink sink) throws InterruptedException {
		turnsTaken.incrementAndGet();
		if (offered.isEmpty()) {
			tools.forEach(tool -> offered.add(tool.name()));
		}
		if (!rounds.isEmpty()) {
			results.addAll(rounds.getLast().results());
		}
		if (rounds.size() < turns.size()) {
			return turns.get(rounds.size());
		}
		generate(request, sink);
		return List.of();
	}

}
