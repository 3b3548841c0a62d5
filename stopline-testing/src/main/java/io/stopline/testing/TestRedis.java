package io.stopline.testing;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;

/**
 * The one source of Redis for tests: {@code SPRING_DATA_REDIS_URL} (or system property
 * {@code stopline.test.redis-url}) when given, else a Testcontainers Redis when a Docker
 * engine exists, else a {@code redis-server} process started on a free port. Never a
 * mock.
 */
public final class TestRedis implements AutoCloseable {

	private static TestRedis shared;

	private final String url;

	private final Process process;

	private final GenericContainer<?> container;

	private final int port;

	private final List<String> extraArgs;

	private TestRedis(String url, Process process, GenericContainer<?> container, int port, List<String> extraArgs) {
		this.url = url;
		this.process = process;
		this.container = container;
		this.port = port;
		this.extraArgs = extraArgs;
	}

	/** The Redis shared by every test of this JVM. */
	public static synchronized TestRedis shared() {
		if (shared == null) {
			String given = System.getProperty("stopline.test.redis-url", System.getenv("SPRING_DATA_REDIS_URL"));
			if (given != null && !given.isBlank()) {
				shared = new TestRedis(given, null, null, -1, List.of());
			}
			else if (dockerAvailable()) {
				shared = startContainer();
			}
			else {
				shared = startProcess(freePort(), List.of());
			}
			TestRedis started = shared;
			Runtime.getRuntime().addShutdownHook(new Thread(started::close));
		}
		return shared;
	}

	/** A dedicated {@code redis-server} process, for tests that stop or restart Redis. */
	public static TestRedis dedicatedProcess(String... extraArgs) {
		TestRedis redis = startProcess(freePort(), List.of(extraArgs));
		Runtime.getRuntime().addShutdownHook(new Thread(redis::close));
		return redis;
	}

	/**
	 * A dedicated {@code redis-server} process that requires a password for the default
	 * user and has an ACL user {@code user}: its {@link #url()} carries that user's
	 * credentials.
	 */
	public static TestRedis withCredentials(String user, String password) {
		TestRedis plain = startProcess(freePort(), List.of("--requirepass", "default-" + password, "--user", user, "on",
				">" + password, "~*", "&*", "+@all"));
		Runtime.getRuntime().addShutdownHook(new Thread(plain::close));
		return new TestRedis("redis://" + user + ":" + password + "@127.0.0.1:" + plain.port, plain.process, null,
				plain.port, plain.extraArgs);
	}

	/** The port of a process-backed Redis. */
	/** The redis-server's process id; -1 in a container. */
	public long pid() {
		return process != null ? process.pid() : -1;
	}

	public int port() {
		return port;
	}

	public String url() {
		return url;
	}

	/** Stops this process-backed Redis at once, without saving (like a crash). */
	public void kill() {
		requireProcess();
		process.destroyForcibly();
		waitFor(process);
	}

	/**
	 * {@code SHUTDOWN NOSAVE}: Redis closes every connection and exits without writing
	 * its data (nothing persists anyway), as an operator's restart would; waits for the
	 * process to end.
	 */
	public void shutdownNoSave() {
		requireProcess();
		try (Socket socket = new Socket("127.0.0.1", port)) {
			socket.setSoTimeout(5000);
			socket.getOutputStream().write("SHUTDOWN NOSAVE\r\n".getBytes(StandardCharsets.US_ASCII));
			socket.getOutputStream().flush();
			// no reply: the server closes the connection as it exits
			socket.getInputStream().read();
		}
		catch (IOException ex) {
			// the connection ends with the server
		}
		waitFor(process);
		if (process.isAlive()) {
			throw new IllegalStateException("redis-server on port " + port + " did not exit on SHUTDOWN NOSAVE");
		}
	}

	/** Starts an empty server again on the same port. */
	public TestRedis restart() {
		requireProcess();
		return startProcess(port, extraArgs);
	}

	@Override
	public void close() {
		if (process != null && process.isAlive()) {
			process.destroyForcibly();
			waitFor(process);
		}
		if (container != null) {
			container.stop();
		}
	}

	private void requireProcess() {
		if (process == null) {
			throw new IllegalStateException("only a redis-server process started by the tests can be restarted");
		}
	}

	private static boolean dockerAvailable() {
		try {
			return DockerClientFactory.instance().isDockerAvailable();
		}
		catch (Throwable ex) {
			return false;
		}
	}

	@SuppressWarnings("resource")
	private static TestRedis startContainer() {
		GenericContainer<?> container = new GenericContainer<>("redis:7.0-alpine").withExposedPorts(6379);
		container.start();
		String url = "redis://" + container.getHost() + ":" + container.getMappedPort(6379);
		return new TestRedis(url, null, container, container.getMappedPort(6379), List.of());
	}

	private static TestRedis startProcess(int port, List<String> extraArgs) {
		List<String> command = new ArrayList<>(List.of(redisServer(), "--port", Integer.toString(port), "--bind",
				"127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"));
		command.addAll(extraArgs);
		try {
			Path log = Files.createTempFile("stopline-redis-" + port + "-", ".log");
			Process process = new ProcessBuilder(command).redirectErrorStream(true)
				.redirectOutput(log.toFile())
				.start();
			awaitPing(port, process, log);
			System.out.printf("[redis-ports] redis-server on port %d (%s)%n", port, log);
			return new TestRedis("redis://127.0.0.1:" + port, process, null, port, extraArgs);
		}
		catch (IOException ex) {
			throw new IllegalStateException("could not start redis-server; install it (apt-get install redis-server) "
					+ "or set SPRING_DATA_REDIS_URL", ex);
		}
	}

	static String redisServer() {
		for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
			if (new File(dir, "redis-server").canExecute()) {
				return new File(dir, "redis-server").getPath();
			}
		}
		return "/usr/bin/redis-server";
	}

	private static void awaitPing(int port, Process process, Path log) throws IOException {
		long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
		while (System.nanoTime() < deadline) {
			if (!process.isAlive()) {
				throw new IllegalStateException("redis-server exited: " + Files.readString(log));
			}
			if (answersPing(port)) {
				return;
			}
			parkBriefly();
		}
		process.destroyForcibly();
		throw new IllegalStateException("redis-server on port " + port + " did not answer PING within 20 s");
	}

	private static boolean answersPing(int port) {
		String answer = ping(port);
		// a server that wants a password is up as well
		return answer.startsWith("+PONG") || answer.startsWith("-NOAUTH");
	}

	/**
	 * Sends a plain, unauthenticated {@code PING} to a local port; the first bytes of the
	 * reply ({@code +PONG}, {@code -NOAUTH}), or "" when nothing answers.
	 */
	public static String ping(int port) {
		try (Socket socket = new Socket("127.0.0.1", port)) {
			socket.setSoTimeout(1000);
			OutputStream out = socket.getOutputStream();
			out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
			out.flush();
			InputStream in = socket.getInputStream();
			byte[] reply = new byte[7];
			int read = in.readNBytes(reply, 0, 7);
			return new String(reply, 0, Math.max(read, 0), StandardCharsets.US_ASCII);
		}
		catch (IOException ex) {
			return "";
		}
	}

	private static void parkBriefly() {
		java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
	}

	private static void waitFor(Process process) {
		try {
			process.waitFor(10, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	static int freePort() {
		try (ServerSocket socket = new ServerSocket(0)) {
			socket.setReuseAddress(true);
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
