package io.stopline.starter.task;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import io.stopline.protocol.StopReason;
import io.stopline.starter.WorkerProperties;
import io.stopline.starter.WorkerPhase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;

/**
 * On shutdown, after the worker stopped taking work: running runs may finish within the
 * grace period, then the rest are stopped with reason {@code shutdown} and recorded, so
 * nothing is left running or registered.
 */
class GracefulShutdown implements SmartLifecycle {

	private static final Logger log = LoggerFactory.getLogger(GracefulShutdown.class);

	private static final Duration STOP_BOUND = Duration.ofSeconds(5);

	private final LocalTaskRegistry tasks;

	private final Duration grace;

	private volatile boolean running;

	GracefulShutdown(LocalTaskRegistry tasks, WorkerProperties properties) {
		this.tasks = tasks;
		this.grace = properties.shutdownGrace();
	}

	@Override
	public void start() {
		running = true;
	}

	@Override
	public void stop() {
		running = false;
		if (tasks.size() == 0) {
			return;
		}
		log.info("waiting up to {} for {} run(s) to finish", grace, tasks.size());
		if (!awaitEmpty(grace)) {
			tasks.list().forEach(task -> task.requestStop(StopReason.SHUTDOWN));
			if (!awaitEmpty(STOP_BOUND)) {
				log.warn("{} run(s) did not end within {}", tasks.size(), STOP_BOUND);
			}
		}
	}

	@Override
	public boolean isRunning() {
		return running;
	}

	@Override
	public int getPhase() {
		return WorkerPhase.GRACEFUL_SHUTDOWN.phase();
	}

	private boolean awaitEmpty(Duration bound) {
		return await(() -> tasks.size() == 0, bound);
	}

	private static boolean await(BooleanSupplier condition, Duration bound) {
		long deadline = System.nanoTime() + bound.toNanos();
		while (!condition.getAsBoolean()) {
			if (System.nanoTime() > deadline) {
				return false;
			}
			try {
				TimeUnit.MILLISECONDS.sleep(20);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return condition.getAsBoolean();
			}
		}
		return true;
	}

}
