package io.stopline.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CPU time (user + system) of the cluster's processes, from {@code /proc/<pid>/stat}:
 * what a stop costs in CPU explains how many fit on this machine's two cores. Linux only;
 * other systems read zero.
 */
final class CpuTime {

	/** USER_HZ: the unit of the stat file's times, 100 on every Linux this runs on. */
	private static final long TICK_NANOS = 10_000_000L;

	private CpuTime() {
	}

	/** CPU nanoseconds so far per role (summed over its processes). */
	static Map<String, Long> sample(Map<String, List<Long>> pids) {
		Map<String, Long> sample = new LinkedHashMap<>();
		pids.forEach((name, ids) -> sample.put(name, ids.stream().mapToLong(CpuTime::of).sum()));
		return sample;
	}

	/** Per process, {@code after - before}. */
	static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
		Map<String, Long> delta = new LinkedHashMap<>();
		after.forEach((name, nanos) -> delta.put(name, nanos - before.getOrDefault(name, 0L)));
		return delta;
	}

	/**
	 * CPU nanoseconds so far of the JIT compiler threads ({@code C1/C2 CompilerThread*})
	 * of these JVMs: compilation still going on is warm-up, not the steady state.
	 */
	static long compilers(java.util.Collection<Long> pids) {
		long nanos = 0;
		for (long pid : pids) {
			try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
				for (Path task : (Iterable<Path>) tasks::iterator) {
					String stat = Files.readString(task.resolve("stat"));
					String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
					if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
						nanos += times(stat);
					}
				}
			}
			catch (IOException | RuntimeException ex) {
				// gone, or not Linux
			}
		}
		return nanos;
	}

	static long of(long pid) {
		try {
			return times(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
		}
		catch (IOException | RuntimeException ex) {
			return 0;
		}
	}

	/** utime + stime of a {@code stat} line, in nanoseconds. */
	private static long times(String stat) {
		// fields after the command name (which may hold spaces) start at ") "
		String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
		// utime and stime are fields 14 and 15 of the whole line, 12 and 13 here
		return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * TICK_NANOS;
	}

}
