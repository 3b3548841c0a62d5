package io.stopline.worker.agent;

import java.time.Instant;

import io.stopline.protocol.RunEvent;
import io.stopline.protocol.ToolCallRecord;
import io.stopline.starter.task.RunScope;
import io.stopline.worker.model.ToolRequest;
import io.stopline.worker.tool.ToolRunHooks;

/**
 * A run's side of its tool loop: the pause gate before each model turn, and the tool
 * events, sent after the tokens that came before them.
 */
final class RunToolHooks implements ToolRunHooks {

	private final RunScope run;

	RunToolHooks(RunScope run) {
		this.run = run;
	}

	@Override
	public void beforeModelTurn() throws InterruptedException {
		run.awaitResumed();
	}

	@Override
	public void callStarted(int index, ToolRequest request) {
		run.publish(new RunEvent.ToolCallStarted(run.job().runId(), run.job().conversationId(), index, request.id(),
				request.name(), request.arguments(), Instant.now()));
	}

	@Override
	public void callFinished(int index, ToolCallRecord record) {
		run.publish(new RunEvent.ToolCallFinished(run.job().runId(), run.job().conversationId(), index, record.id(),
				record.name(), record.status(), record.durationMillis(), record.resultChars(), Instant.now()));
	}

}
