package io.stopline.starter.task;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutorService;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.stopline.protocol.RunEvent;
import io.stopline.protocol.StartRun;
import io.stopline.protocol.StopReason;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.events.RunEvents;
import io.stopline.core.ops.StopAudit;
import io.stopline.core.stop.StopRequests;
import io.stopline.starter.WorkerProperties;
import io.stopline.core.run.RunReplays;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Builds the worker's task parts for tests of the packages that use them (their
 * constructors are package-private).
 */
public final class TaskFixtures {

	private TaskFixtures() {
	}

	public static WorkerProperties properties(String workerId, Duration maxRun) {
		return new WorkerProperties(workerId, Duration.ofSeconds(10), Duration.ofMillis(500), Duration.ofSeconds(10),
				Duration.ofSeconds(2), maxRun, Duration.ofMinutes(5), Duration.ofSeconds(5));
	}

	public static TaskRunner runner(ConversationRegistry registry, StopRequests stopRequests, LocalTaskRegistry tasks,
			RunEvents events, ExecutorService executor, StopAudit audit, WorkerProperties properties,
			StringRedisTemplate replayTemplate) {
		return runner(registry, stopRequests, tasks, events, executor, audit, properties, replayTemplate,
				new SimpleMeterRegistry());
	}

	/** The same, its metrics in {@code meters}. */
	public static TaskRunner runner(ConversationRegistry registry, StopRequests stopRequests, LocalTaskRegistry tasks,
			RunEvents events, ExecutorService executor, StopAudit audit, WorkerProperties properties,
			StringRedisTemplate replayTemplate, MeterRegistry meters) {
		return new TaskRunner(registry, stopRequests, tasks, events, executor, new RunMetrics(meters, tasks), audit,
				properties, new TokenFrameProperties(Duration.ofMillis(5), 4096, Duration.ofMillis(2)),
				new RunReplays(replayTemplate, Duration.ofSeconds(60)),
				new RecentOutcomes(new RecentOutcomesProperties(Duration.ofMinutes(2), 10_000)));
	}

	/** A task registered as running here (not generating). */
	public static RunningTask running(LocalTaskRegistry tasks, StartRun job) {
		RunningTask task = new RunningTask(job, run -> {
		});
		if (!tasks.register(task)) {
			throw new IllegalStateException("conversation already has a task");
		}
		return task;
	}

	/** The task's model finished first. */
	public static void complete(RunningTask task) {
		task.beginGeneration();
		if (task.endGeneration() != null) {
			throw new IllegalStateException("a stop won");
		}
	}

	/** The task was stopped and its outcome recorded. */
	public static RunEvent.RunStopped stopped(RunningTask task) {
		task.beginGeneration();
		task.requestStop(StopReason.USER);
		Stopped stopped = task.endGeneration();
		RunEvent.RunStopped event = new RunEvent.RunStopped(task.runId(), task.conversationId(), stopped.reason(), "",
				0, Instant.now());
		task.settle(stopped, event);
		return event;
	}

	public static StartRun job(String runId, String userId, String conversationId, String replyTo) {
		return new StartRun(runId, userId, conversationId, "assistant",
				List.of(new StartRun.ChatMessage("user", "hello")), 100, replyTo, Instant.now(), null);
	}

}
