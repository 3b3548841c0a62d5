package io.stopline.worker.agent;

import java.time.Instant;
import java.util.List;

import io.stopline.protocol.HistoryMessage;
import io.stopline.protocol.ToolCallRecord;
import io.stopline.starter.task.Generation;
import io.stopline.starter.task.GenerationFailure;
import io.stopline.starter.task.RunScope;
import io.stopline.worker.model.ChatModel;
import io.stopline.worker.model.ModelFailure;
import io.stopline.worker.tool.ToolCallLog;
import io.stopline.worker.tool.ToolLoop;

/**
 * One run of an agent: its model (blocking, token by token) and its tools, driven by the
 * starter's engine on the run's thread. A stop interrupts that thread, which ends the
 * model's call and cancels the tools' calls.
 */
final class AgentGeneration implements Generation {

	private final ToolLoop loop;

	private final ToolCallLog toolCalls = new ToolCallLog();

	AgentGeneration(ToolLoop loop) {
		this.loop = loop;
	}

	@Override
	public void generate(RunScope run) throws InterruptedException {
		try {
			loop.run(run.job(), new ChatModel.TokenSink() {
				@Override
				public void accept(String token) throws InterruptedException {
					run.emit(token);
				}

				@Override
				public void upstreamClosed() {
					run.upstreamClosed();
				}
			}, new RunToolHooks(run), toolCalls);
		}
		catch (ModelFailure ex) {
			throw new GenerationFailure(ex.getMessage(), ex);
		}
	}

	@Override
	public List<ToolCallRecord> toolCalls() {
		return toolCalls.records();
	}

	@Override
	public List<HistoryMessage> toolHistory(String runId, Instant at) {
		return toolCalls.history(runId, at);
	}

}
