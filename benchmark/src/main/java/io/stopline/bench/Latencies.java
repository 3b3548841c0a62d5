package io.stopline.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Latency samples in nanoseconds, and their percentiles in milliseconds. */
final class Latencies {

	private long[] samples = new long[1024];

	private int size;

	synchronized void add(long nanos) {
		if (size == samples.length) {
			samples = Arrays.copyOf(samples, size * 2);
		}
		samples[size++] = nanos;
	}

	synchronized int size() {
		return size;
	}

	/** The mean in milliseconds (set beside a mean another process reports). */
	synchronized double meanMs() {
		if (size == 0) {
			return Double.NaN;
		}
		double sum = 0;
		for (int i = 0; i < size; i++) {
			sum += samples[i];
		}
		return sum / size / 1e6;
	}

	/** The p-quantile in milliseconds (nearest rank). */
	synchronized double ms(double quantile) {
		if (size == 0) {
			return Double.NaN;
		}
		long[] sorted = Arrays.copyOf(samples, size);
		Arrays.sort(sorted);
		int rank = (int) Math.ceil(quantile * size) - 1;
		return sorted[Math.max(0, Math.min(size - 1, rank))] / 1e6;
	}

	Map<String, Object> summary() {
		Map<String, Object> summary = new LinkedHashMap<>();
		summary.put("samples", size());
		summary.put("p50_ms", round(ms(0.50)));
		summary.put("p90_ms", round(ms(0.90)));
		summary.put("p99_ms", round(ms(0.99)));
		summary.put("p999_ms", round(ms(0.999)));
		summary.put("max_ms", round(ms(1.0)));
		return summary;
	}

	static double round(double value) {
		return Math.round(value * 1000) / 1000.0;
	}

}
