package io.stopline.starter.pause;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import io.stopline.protocol.Json;
import io.stopline.protocol.RunControl;
import io.stopline.core.schema.Channels;
import io.stopline.core.schema.Keys;
import io.stopline.starter.WorkerProperties;
import io.stopline.starter.WorkerPhase;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;

/**
 * Hears pause and resume commands for this worker on
 * {@code stopline:{w:<worker>}:control}. Unlike stops they are not recorded: a command
 * lost while the subscription reconnects goes unanswered, the gateway says 202 and the
 * client can repeat it.
 */
class ControlListener implements SmartLifecycle {

	private static final Logger log = LoggerFactory.getLogger(ControlListener.class);

	private final RTopic topic;

	private final RunControls controls;

	/** One at a time, in arrival order: a pause then a resume must not swap. */
	private final ExecutorService executor = Executors
		.newSingleThreadExecutor(Thread.ofVirtual().name("run-controls").factory());

	private volatile boolean running;

	ControlListener(RedissonClient redisson, RunControls controls, WorkerProperties properties) {
		this.topic = Channels.topic(redisson, Keys.workerControlChannel(properties.id()));
		this.controls = controls;
	}

	@Override
	public void start() {
		topic.addListener(String.class, (channel, raw) -> executor.execute(() -> handle(raw)));
		running = true;
	}

	private void handle(String raw) {
		try {
			controls.handle(Json.read(raw, RunControl.class));
		}
		catch (RuntimeException ex) {
			log.warn("pause/resume command failed: {}", ex.toString());
		}
	}

	@Override
	public void stop() {
		running = false;
		topic.removeAllListeners();
		executor.shutdown();
	}

	@Override
	public boolean isRunning() {
		return running;
	}

	@Override
	public int getPhase() {
		return WorkerPhase.LISTENERS.phase();
	}

}
