package io.stopline.worker.task;

import java.time.Duration;
import java.time.Instant;

import io.stopline.protocol.RunEvent;
import io.stopline.core.events.RunEvents;
import io.stopline.protocol.ToolCallRecord;
import io.stopline.worker.model.ToolRequest;
import io.stopline.worker.tool.ToolRunHooks;

/**
 * A run's side of its tool loop: the pause gate before each model turn, and the tool
 * events, sent after the tokens that came before them.
 */
final class RunToolHooks implements ToolRunHooks {

	private static final Duration DRAIN_BOUND = Duration.ofSeconds(2);

	private final RunningTask task;

	private final RunEvents events;

	RunToolHooks(RunningTask task, RunEvents events) {
		this.task = task;
		this.events = events;
	}

	@Override
	public void beforeModelTurn() throws InterruptedException {
		task.awaitResumed();
	}

	@Override
	public void callStarted(int index, ToolRequest request) {
		publish(new RunEvent.ToolCallStarted(task.runId(), task.conversationId(), index, request.id(), request.name(),
				request.arguments(), Instant.now()));
	}

	@Override
	public void callFinished(int index, ToolCallRecord record) {
		publish(new RunEvent.ToolCallFinished(task.runId(), task.conversationId(), index, record.id(), record.name(),
				record.status(), record.durationMillis(), record.resultChars(), Instant.now()));
	}

	private void publish(RunEvent event) {
		task.drainFrames(DRAIN_BOUND);
		try {
			events.publish(task.userId(), task.job().replyTo(), event);
		}
		catch (RuntimeException ex) {
			task.noteLostToken(ex);
		}
	}

}
