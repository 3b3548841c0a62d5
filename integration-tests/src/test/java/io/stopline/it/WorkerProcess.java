package io.stopline.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * A worker as a real operating-system process, started from the jar the build produced,
 * so faults are real: {@code kill -9}, {@code kill -STOP}/{@code -CONT}, SIGTERM.
 */
final class WorkerProcess implements AutoCloseable {

	private final String id;

	private final Process process;

	private final Path log;

	private WorkerProcess(String id, Process process, Path log) {
		this.id = id;
		this.process = process;
		this.log = log;
	}

	static WorkerProcess start(String redisUrl, String id, Map<String, String> properties) {
		String jar = System.getProperty("stopline.worker.jar");
		if (jar == null || !Files.exists(Path.of(jar))) {
			throw new IllegalStateException("worker jar not found (" + jar + "); build it with ./mvnw package");
		}
		String java = ProcessHandle.current().info().command().orElse("java");
		List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
				"-jar", jar, "--server.port=0", "--spring.data.redis.url=" + redisUrl, "--stopline.worker.id=" + id,
				"--spring.main.banner-mode=off"));
		properties.forEach((key, value) -> command.add("--" + key + "=" + value));
		try {
			Path log = Files.createDirectories(Path.of("target", "worker-logs")).resolve(id + ".log");
			Process process = new ProcessBuilder(command).redirectErrorStream(true)
				.redirectOutput(log.toFile())
				.start();
			WorkerProcess worker = new WorkerProcess(id, process, log);
			await().atMost(Duration.ofSeconds(60))
				.until(() -> !process.isAlive() || worker.logContains("listening for stops on"));
			if (!process.isAlive()) {
				throw new IllegalStateException("worker " + id + " exited at start:\n" + Files.readString(log));
			}
			return worker;
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	String id() {
		return id;
	}

	long pid() {
		return process.pid();
	}

	boolean isAlive() {
		return process.isAlive();
	}

	/** SIGKILL: the process dies at once, nothing runs on its way out. */
	void kill() {
		process.destroyForcibly();
		awaitExit(Duration.ofSeconds(10));
	}

	/** SIGTERM: a graceful shutdown. */
	void terminate() {
		process.destroy();
	}

	/** SIGSTOP: frozen, like a long GC pause; its sockets stay open. */
	void pause() {
		signal("-STOP");
	}

	/** SIGCONT. */
	void resume() {
		signal("-CONT");
	}

	int awaitExit(Duration bound) {
		try {
			if (!process.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS)) {
				throw new AssertionError("worker " + id + " did not exit within " + bound);
			}
			return process.exitValue();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	boolean logContains(String text) {
		try {
			return Files.exists(log) && Files.readString(log).contains(text);
		}
		catch (IOException ex) {
			return false;
		}
	}

	private void signal(String signal) {
		try {
			int exit = new ProcessBuilder("kill", signal, Long.toString(process.pid())).start().waitFor();
			if (exit != 0) {
				throw new IllegalStateException("kill " + signal + " failed with " + exit);
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	@Override
	public void close() {
		if (process.isAlive()) {
			resume();
			process.destroyForcibly();
			awaitExit(Duration.ofSeconds(10));
		}
	}

}
