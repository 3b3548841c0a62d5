package io.stopline.starter.pause;

import io.stopline.protocol.RunState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import io.stopline.protocol.RunControl;
import io.stopline.protocol.RunEvent;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.events.RunEvents;
import io.stopline.core.run.RunRecord;
import io.stopline.protocol.StopReason;
import io.stopline.starter.WorkerProperties;
import io.stopline.starter.task.ControlAttempt;
import io.stopline.starter.task.LocalTaskRegistry;
import io.stopline.starter.task.PauseGate;
import io.stopline.starter.task.RunningTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pauses and resumes runs on this worker. A pause blocks the run at its next token, marks
 * its record {@code paused} (the active listing shows it) and arms a timer that stops it
 * with reason {@code timeout} after {@code max-pause-duration}; a resume undoes all
 * three. Repeating either is harmless: it answers with the state the run is in.
 */
class RunControls {

	private static final Logger log = LoggerFactory.getLogger(RunControls.class);

	private final LocalTaskRegistry tasks;

	private final ConversationRegistry registry;

	private final RunEvents events;

	private final Duration maxPause;

	private final ScheduledThreadPoolExecutor timers = timers();

	RunControls(LocalTaskRegistry tasks, ConversationRegistry registry, RunEvents events, WorkerProperties properties) {
		this.tasks = tasks;
		this.registry = registry;
		this.events = events;
		this.maxPause = properties.maxPauseDuration();
	}

	void handle(RunControl command) {
		Optional<RunningTask> task = tasks.find(command.userId(), command.conversationId())
			.filter(candidate -> candidate.runId().equals(command.runId()));
		if (RunControl.SNAPSHOT.equals(command.action())) {
			// a watcher joined: the answer so far, on the conversation's channel
			// (with where its frames end, for a resumed chat stream)
			task.ifPresent(running -> running.snapshot((content, tokens) -> events.toConversation(running.userId(),
					new RunEvent.RunSnapshot(running.runId(), running.conversationId(), content, tokens, Instant.now(),
							running.offsets().upTo(tokens)))));
			return;
		}
		if (task.isEmpty()) {
			ignored(command, "not_running");
			return;
		}
		task.get().pauseGate().underControl(() -> {
			apply(task.get(), command);
			return null;
		});
	}

	/**
	 * Cancelled timers leave the queue at once instead of holding their task for minutes.
	 */
	private static ScheduledThreadPoolExecutor timers() {
		ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1,
				Thread.ofPlatform().daemon().name("pause-timeouts").factory());
		timers.setRemoveOnCancelPolicy(true);
		return timers;
	}

	private void apply(RunningTask task, RunControl command) {
		boolean pause = RunControl.PAUSE.equals(command.action());
		// a pause takes effect before it is announced (and no token in flight may follow
		// the announcement); a resume is announced before the run goes on, so the
		// watchers see run_resumed before the next token
		PauseGate gate = task.pauseGate();
		ControlAttempt attempt = pause ? gate.pause() : gate.resumable();
		if (pause && attempt == ControlAttempt.CHANGED) {
			gate.awaitQuiet();
		}
		Instant now = Instant.now();
		RunEvent answer = pause ? new RunEvent.RunPaused(task.runId(), task.conversationId(), now)
				: new RunEvent.RunResumed(task.runId(), task.conversationId(), now);
		switch (attempt) {
			case ENDING -> ignored(command, "ending");
			// repeated: say it again everywhere, so a view that missed it catches up
			case UNCHANGED -> announce(task, command, answer);
			case CHANGED -> {
				// the timer first: whatever fails below, a paused run cannot stay paused
				// for ever
				gate.timeout(pause ? timers.schedule(() -> task.requestStop(StopReason.TIMEOUT), maxPause.toMillis(),
						TimeUnit.MILLISECONDS) : null);
				RunRecord record = task.record();
				try {
					if (record != null) {
						registry.changeState(record, pause ? RunState.RUNNING : RunState.PAUSED,
								pause ? RunState.PAUSED : RunState.RUNNING);
					}
				}
				catch (RuntimeException ex) {
					log.warn("could not record that run {} is {}: {}", task.runId(), pause ? "paused" : "running",
							ex.toString());
				}
				if (!task.isRunning()) {
					// the run ended meanwhile: its end was announced, a pause must not
					// follow
					ignored(command, "ending");
					return;
				}
				announce(task, command, answer);
				if (!pause) {
					gate.resume();
				}
				log.info("run {} {}", task.runId(), pause ? "paused" : "resumed");
			}
		}
	}

	private void announce(RunningTask task, RunControl command, RunEvent answer) {
		try {
			events.publish(task.userId(), List.of(command.replyTo(), task.job().replyTo()), answer);
		}
		catch (RuntimeException ex) {
			log.warn("could not announce the {} of run {}: {}", command.action(), task.runId(), ex.toString());
		}
	}

	private void ignored(RunControl command, String cause) {
		events.toGateway(command.replyTo(), new RunEvent.ControlIgnored(command.runId(), command.conversationId(),
				command.action(), cause, Instant.now()));
	}

}
