package io.stopline.it;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.stopline.testing.NodeProcess;

/** A worker as an operating-system process, from the jar the worker module built. */
final class WorkerProcess implements AutoCloseable {

	private final String id;

	private final NodeProcess process;

	private WorkerProcess(String id, NodeProcess process) {
		this.id = id;
		this.process = process;
	}

	static WorkerProcess start(String redisUrl, String id, Map<String, String> properties) {
		return start(redisUrl, id, properties, List.of());
	}

	/**
	 * With a command before {@code java} that execs it, e.g. {@code ip netns exec <ns>}
	 * to run the worker in a network namespace of its own.
	 */
	static WorkerProcess start(String redisUrl, String id, Map<String, String> properties, List<String> commandPrefix) {
		Map<String, String> all = new LinkedHashMap<>();
		all.put("server.port", "0");
		all.put("spring.data.redis.url", redisUrl);
		all.put("stopline.worker.id", id);
		all.putAll(properties);
		NodeProcess process = NodeProcess.start(id, commandPrefix, Path.of(System.getProperty("stopline.worker.jar")),
				List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"), all, Map.of(),
				"listening for stops on", Path.of("target", "worker-logs"));
		return new WorkerProcess(id, process);
	}

	String id() {
		return id;
	}

	void kill() {
		process.kill();
	}

	void terminate() {
		process.terminate();
	}

	void pause() {
		process.pause();
	}

	void resume() {
		process.resume();
	}

	boolean isAlive() {
		return process.isAlive();
	}

	boolean logContains(String text) {
		return process.logContains(text);
	}

	int awaitExit(Duration bound) {
		return process.awaitExit(bound);
	}

	@Override
	public void close() {
		process.close();
	}

}
