package io.stopline.starter.stop;

import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executor;

import io.stopline.protocol.Json;
import io.stopline.protocol.RunEvent;
import io.stopline.protocol.StopRun;
import io.stopline.core.stop.StopRequests;
import io.stopline.starter.WorkerProperties;
import io.stopline.starter.task.LocalTaskRegistry;
import io.stopline.core.events.RunEvents;
import io.stopline.starter.task.RunningTask;
import io.stopline.starter.task.StopAttempt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Carries out one stop request, from pub/sub or from the recorded set. Idempotent: a
 * duplicate or replayed request finds the run stopping or gone and only answers.
 */
class StopHandler {

	private static final Logger log = LoggerFactory.getLogger(StopHandler.class);

	private final LocalTaskRegistry tasks;

	private final RunEvents events;

	private final StopRequests stopRequests;

	private final String workerId;

	StopHandler(LocalTaskRegistry tasks, RunEvents events, StopRequests stopRequests, WorkerProperties properties) {
		this.tasks = tasks;
		this.events = events;
		this.stopRequests = stopRequests;
		this.workerId = properties.id();
	}

	/**
	 * From the pub/sub listener's thread: the common case (the run is here and the stop
	 * is accepted) only flips the task's state and interrupts it, no I/O, so it is done
	 * at once; anything that must answer through Redis is handed to {@code io}.
	 */
	void handleFast(String rawStop, Executor io) {
		try {
			StopRun stop = Json.read(rawStop, StopRun.class);
			Optional<RunningTask> task = tasks.find(stop.userId(), stop.conversationId())
				.filter(candidate -> candidate.runId().equals(stop.runId()));
			if (task.isPresent() && task.get()
				.requestStop(stop.reason(), stop.replyTo(), rawStop, stop.requestedAt(),
						stop.seenTokens()) == StopAttempt.ACCEPTED) {
				return;
			}
		}
		catch (RuntimeException ex) {
			// fall through: the full path reports and clears it
		}
		io.execute(() -> handle(rawStop));
	}

	void handle(String rawStop) {
		StopRun stop;
		try {
			stop = Json.read(rawStop, StopRun.class);
		}
		catch (RuntimeException ex) {
			log.warn("dropping an unreadable stop request: {}", ex.toString());
			stopRequests.clear(workerId, rawStop);
			return;
		}
		MDC.put("conversation_id", stop.conversationId());
		MDC.put("run_id", stop.runId());
		MDC.put("worker_id", workerId);
		try {
			handle(stop, rawStop);
		}
		finally {
			MDC.clear();
		}
	}

	private void handle(StopRun stop, String rawStop) {
		Optional<RunningTask> task = tasks.find(stop.userId(), stop.conversationId())
			.filter(candidate -> candidate.runId().equals(stop.runId()));
		if (task.isEmpty()) {
			answer(stop, rawStop, "not_running");
			return;
		}
		switch (task.get().requestStop(stop.reason(), stop.replyTo(), rawStop, stop.requestedAt(), stop.seenTokens())) {
			case ACCEPTED -> log.debug("stopping run {} ({})", stop.runId(), stop.reason());
			case COMPLETED -> answer(stop, rawStop, "completed");
			case ALREADY_STOPPED -> {
				RunEvent.RunStopped stopped = task.get().stoppedEvent();
				if (stopped != null) {
					events.toGateway(stop.replyTo(), stopped);
				}
				stopRequests.clear(workerId, rawStop);
			}
		}
	}

	private void answer(StopRun stop, String rawStop, String cause) {
		events.toGateway(stop.replyTo(),
				new RunEvent.StopIgnored(stop.runId(), stop.conversationId(), cause, Instant.now()));
		stopRequests.clear(workerId, rawStop);
	}

}
