package io.stopline.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code ./stopline run} as a user starts it: Redis, two workers and a gateway from the
 * jars the build made ({@code --no-build}, so the test never starts a nested build), on
 * free ports, with throwaway data ({@code --fresh}). One worker is killed with SIGKILL;
 * the script must say which process ended and how, and stop everything else it started.
 */
class RunCommandIntegrationTests {

	private static final Pattern STARTED = Pattern.compile("stopline: started (\\S+) \\(pid (\\d+),");

	private final List<String> output = new CopyOnWriteArrayList<>();

	private Process script;

	private String dataDir;

	private final List<ProcessHandle> started = new ArrayList<>();

	@AfterEach
	void killLeftovers() {
		// only if an assertion failed: never leave a node running after the test
		started.forEach(ProcessHandle::destroyForcibly);
		if (script != null) {
			script.descendants().forEach(ProcessHandle::destroyForcibly);
			script.destroyForcibly();
		}
	}

	@Test
	void aKilledWorkerStopsEverythingTheScriptStartedAndIsNamed() throws Exception {
		script = startScript();
		await("the script prints that Stopline is running").atMost(ofSeconds(240))
			.pollInterval(ofSeconds(1))
			.until(() -> output.stream().anyMatch((line) -> line.startsWith("Stopline is running"))
					|| !script.isAlive());
		assertThat(script.isAlive()).as("the script is running; its output:\n%s", String.join("\n", output)).isTrue();
		Map<String, Long> pids = startedPids();
		assertThat(pids).containsOnlyKeys("redis", "worker-1", "worker-2", "gateway");
		pids.values().forEach((pid) -> started.add(ProcessHandle.of(pid).orElseThrow()));
		List<ProcessHandle> descendants = script.descendants().toList();

		ProcessHandle.of(pids.get("worker-1")).orElseThrow().destroyForcibly();

		assertThat(script.waitFor(90, TimeUnit.SECONDS)).as("the script ends by itself").isTrue();
		assertThat(script.exitValue()).isEqualTo(1);
		assertThat(output).contains("stopline: worker-1 (pid " + pids.get("worker-1")
				+ ") was killed by signal 9 (SIGKILL); see " + dataDir + "/logs/");
		assertThat(output).anyMatch((line) -> line.startsWith("stopline: stopping 3 process(es):"));
		assertThat(output).contains("stopline: everything started here has stopped");
		assertThat(started).as("every process the script started has ended").noneMatch(ProcessHandle::isAlive);
		assertThat(descendants).as("and so has everything below them").noneMatch(ProcessHandle::isAlive);
		assertThat(output).noneMatch((line) -> line.contains("unbound variable"));
	}

	private Process startScript() throws IOException {
		Path root = Path.of(System.getProperty("stopline.root", "..")).toAbsolutePath().normalize();
		Path data = Path.of("target", "run-command");
		Files.createDirectories(data);
		ProcessBuilder builder = new ProcessBuilder("bash", root.resolve("stopline").toString(), "run", "--fresh",
				"--no-build")
			.directory(root.toFile())
			.redirectErrorStream(true);
		Map<String, String> env = builder.environment();
		env.remove("SPRING_DATA_REDIS_URL");
		env.put("JAVA_HOME", System.getProperty("java.home"));
		env.put("STOPLINE_PORT", String.valueOf(freePort()));
		dataDir = root.relativize(data.toAbsolutePath()).toString();
		env.put("STOPLINE_DATA_DIR", dataDir);
		env.put("STOPLINE_JAVA_OPTS", "-Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC");
		Process process = builder.start();
		Thread.ofVirtual().start(() -> readLines(process));
		return process;
	}

	private void readLines(Process process) {
		try (BufferedReader reader = new BufferedReader(
				new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
			for (String line = reader.readLine(); line != null; line = reader.readLine()) {
				output.add(line);
				System.out.println("[run] " + line);
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	private Map<String, Long> startedPids() {
		Map<String, Long> pids = new LinkedHashMap<>();
		for (String line : output) {
			Matcher matcher = STARTED.matcher(line);
			if (matcher.find()) {
				pids.put(matcher.group(1), Long.parseLong(matcher.group(2)));
			}
		}
		return pids;
	}

	/**
	 * A free port below the kernel's ephemeral range (the script takes the next two for
	 * the workers): a port from that range, as {@code new ServerSocket(0)} gives, can be
	 * taken by any outgoing connection before the node binds it.
	 */
	private static int freePort() throws IOException {
		int low = ephemeralLow();
		int from = Math.max(1024, Math.min(20000, low - 10_000));
		for (int attempt = 0; attempt < 1000; attempt++) {
			int port = from + java.util.concurrent.ThreadLocalRandom.current().nextInt(low - 3 - from);
			if (free(port) && free(port + 1) && free(port + 2)) {
				return port;
			}
		}
		throw new IOException("no free port below the ephemeral range " + low);
	}

	private static boolean free(int port) {
		try (ServerSocket socket = new ServerSocket(port)) {
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	/** The first port of {@code ip_local_port_range} (Linux), 32768 when unknown. */
	private static int ephemeralLow() {
		try {
			return Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
				.get(0)
				.trim()
				.split("\\s+")[0]);
		}
		catch (IOException | RuntimeException ex) {
			return 32768;
		}
	}

}
