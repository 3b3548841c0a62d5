package io.stopline.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

import com.sun.tools.attach.VirtualMachine;

/**
 * async-profiler around one phase of the benchmark, in every node:
 * {@code -Dstopline.bench.profiler=cpu} (or {@code wall}, {@code alloc}, {@code lock})
 * attaches it to each node's JVM when the phase starts and writes collapsed stacks
 * ({@code target/bench/<node>-<event>-<phase>.collapsed}, one line per stack and its
 * sample count) when it ends, so start-up and JIT warm-up of earlier phases stay out. The
 * native library comes out of the {@code tools.profiler:async-profiler} jar on this
 * classpath.
 */
final class Profiler implements AutoCloseable {

	private final String event;

	private final Map<String, Long> pids;

	private final String phase;

	private Profiler(String event, Map<String, Long> pids, String phase) {
		this.event = event;
		this.pids = pids;
		this.phase = phase;
		pids.values().forEach(pid -> command(pid, "start,event=" + event + ",interval=" + interval()));
	}

	/** Profiles {@code nodes} until closed; does nothing unless asked for. */
	static AutoCloseable around(String phase, Map<String, Long> nodes) {
		String event = System.getProperty("stopline.bench.profiler");
		return event == null ? () -> {
		} : new Profiler(event, nodes, phase);
	}

	@Override
	public void close() {
		pids.forEach((node, pid) -> command(pid, "stop,collapsed,file="
				+ Path.of("target", "bench", node + "-" + event + "-" + phase + ".collapsed").toAbsolutePath()));
	}

	private String interval() {
		return switch (event) {
			case "cpu", "itimer" -> "997us";
			case "wall" -> "1ms";
			default -> "512k";
		};
	}

	private static void command(long pid, String options) {
		try {
			VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
			try {
				vm.loadAgentPath(library().toString(), options);
			}
			finally {
				vm.detach();
			}
		}
		catch (Exception ex) {
			System.err.println("async-profiler " + options + " on " + pid + " failed: " + ex);
		}
	}

	private static synchronized Path library() throws IOException {
		Path library = Path.of("target", "bench", "libasyncProfiler.so").toAbsolutePath();
		if (Files.exists(library)) {
			return library;
		}
		String arch = System.getProperty("os.arch").contains("aarch64") ? "linux-arm64" : "linux-x64";
		try (InputStream in = Profiler.class.getResourceAsStream("/" + arch + "/libasyncProfiler.so")) {
			if (in == null) {
				throw new IllegalStateException("async-profiler has no library for " + arch);
			}
			Files.createDirectories(library.getParent());
			Files.copy(in, library, StandardCopyOption.REPLACE_EXISTING);
			return library;
		}
		catch (UncheckedIOException ex) {
			throw ex.getCause();
		}
	}

}
