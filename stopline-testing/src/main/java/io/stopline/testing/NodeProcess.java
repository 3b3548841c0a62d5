package io.stopline.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A Stopline node (gateway or worker) as a real operating-system process, started from
 * the jar the build produced, so faults are real: {@code kill -9},
 * {@code kill -STOP}/{@code -CONT}, SIGTERM.
 */
public final class NodeProcess implements AutoCloseable {

	private final String name;

	private final Process process;

	private final Path log;

	private NodeProcess(String name, Process process, Path log) {
		this.name = name;
		this.process = process;
		this.log = log;
	}

	/**
	 * Starts {@code java -jar jar --key=value...} and waits until its log shows
	 * {@code readyLine}.
	 * @param jvmOptions options for the JVM, before {@code -jar}
	 */
	public static NodeProcess start(String name, Path jar, List<String> jvmOptions, Map<String, String> properties,
			Map<String, String> environment, String readyLine, Path logDir) {
		return start(name, List.of(), jar, jvmOptions, properties, environment, readyLine, logDir);
	}

	/**
	 * As {@link #start(String, Path, List, Map, Map, String, Path)}, with a command put
	 * before {@code java} that execs it (e.g. {@code ip netns exec <ns>}: the process
	 * keeps the id the signals go to).
	 */
	public static NodeProcess start(String name, List<String> commandPrefix, Path jar, List<String> jvmOptions,
			Map<String, String> properties, Map<String, String> environment, String readyLine, Path logDir) {
		if (!Files.exists(jar)) {
			throw new IllegalStateException("jar not found: " + jar + "; build it with ./mvnw package");
		}
		String java = ProcessHandle.current().info().command().orElse("java");
		List<String> command = new ArrayList<>(commandPrefix);
		command.add(java);
		command.addAll(jvmOptions);
		command.addAll(List.of("-jar", jar.toString(), "--spring.main.banner-mode=off"));
		properties.forEach((key, value) -> command.add("--" + key + "=" + value));
		try {
			Path log = Files.createDirectories(logDir).resolve(name + ".log");
			ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
			builder.environment().putAll(environment);
			NodeProcess node = new NodeProcess(name, builder.start(), log);
			long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
			while (!node.logContains(readyLine)) {
				if (!node.process.isAlive()) {
					throw new IllegalStateException(name + " exited at start:\n" + Files.readString(log));
				}
				if (System.nanoTime() > deadline) {
					node.close();
					throw new IllegalStateException(name + " not ready within 90 s:\n" + Files.readString(log));
				}
				LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
			}
			return node;
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/** The operating system's process id (the benchmark reads its CPU time). */
	public long pid() {
		return process.pid();
	}

	public String name() {
		return name;
	}

	public boolean isAlive() {
		return process.isAlive();
	}

	/** SIGKILL: the process dies at once, nothing runs on its way out. */
	public void kill() {
		process.destroyForcibly();
		awaitExit(Duration.ofSeconds(10));
	}

	/** SIGTERM: a graceful shutdown. */
	public void terminate() {
		process.destroy();
	}

	/** SIGSTOP: frozen, like a long GC pause; its sockets stay open. */
	public void pause() {
		signal("-STOP");
	}

	/** SIGCONT. */
	public void resume() {
		signal("-CONT");
	}

	public int awaitExit(Duration bound) {
		try {
			if (!process.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS)) {
				throw new AssertionError(name + " did not exit within " + bound);
			}
			return process.exitValue();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	public boolean logContains(String text) {
		try {
			return Files.exists(log) && Files.readString(log).contains(text);
		}
		catch (IOException ex) {
			return false;
		}
	}

	/** The first {@code port} the log reports Tomcat started on. */
	public int httpPort() {
		try {
			java.util.regex.Matcher port = java.util.regex.Pattern.compile("Tomcat started on ports? (\\d+)")
				.matcher(Files.readString(log));
			if (!port.find()) {
				throw new IllegalStateException(name + " has not reported its port");
			}
			return Integer.parseInt(port.group(1));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
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
			signal("-CONT");
			process.destroyForcibly();
			awaitExit(Duration.ofSeconds(10));
		}
	}

}
