package io.stopline.bench;

import java.util.List;

/**
 * How big a benchmark run is. {@code full} is the one BENCHMARKS.md reports;
 * {@code smoke} is the small run CI keeps so the benchmark cannot rot.
 */
record BenchProfile(String name, int activeRuns, int users, int rounds, int stopsPerRound, List<Integer> rates,
		int stepSeconds, List<Integer> listingTotals, int listingSamples, List<Integer> workerCounts, int scalingRuns,
		int scalingStops, int faultStops, int registrationRuns, int chatStartSeconds, int floorSamples,
		int warmUpSeconds) {

	static BenchProfile of(String name) {
		return switch (name) {
			case "full" -> new BenchProfile("full", 10_000, 1_000, 3, 2_000,
					List.of(100, 250, 500, 1_000, 1_500, 2_000, 3_000, 4_000), 2, List.of(1_000, 10_000, 100_000),
					2_000, List.of(1, 3, 6), 600, 300, 200, 2_000, 3, 5_000, 120);
			case "quick" -> new BenchProfile("quick", 2_000, 200, 2, 1_000, List.of(100, 250, 500, 1_000, 2_000), 2,
					List.of(1_000, 10_000), 500, List.of(3), 300, 200, 50, 1_000, 2, 2_000, 40);
			case "smoke" -> new BenchProfile("smoke", 60, 6, 1, 20, List.of(50), 1, List.of(100, 300), 20, List.of(1),
					20, 10, 5, 50, 1, 200, 2);
			default -> throw new IllegalArgumentException("profile must be full, quick or smoke");
		};
	}

}
