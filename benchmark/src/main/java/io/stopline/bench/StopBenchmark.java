package io.stopline.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import io.stopline.protocol.HistoryMessage;
import io.stopline.core.schema.Keys;
import io.stopline.core.run.RunOutcome;
import io.stopline.core.run.RunRecord;
import io.stopline.testing.NodeProcess;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * How fast a stop lands, and how the cost grows. Starts a real cluster on this machine
 * (redis-server, one gateway, workers, each a process from the built jars) and measures,
 * printing a table and writing JSON.
 *
 * <pre>
 * ./stopline bench            # the full run (several minutes)
 * ./stopline bench smoke      # the small run CI keeps
 * </pre>
 */
public final class StopBenchmark {

	private final BenchProfile profile;

	private final Path gatewayJar;

	private final Path workerJar;

	private final Map<String, Object> results = new LinkedHashMap<>();

	private final List<String> table = new ArrayList<>();

	StopBenchmark(BenchProfile profile, Path gatewayJar, Path workerJar) {
		this.profile = profile;
		this.gatewayJar = gatewayJar;
		this.workerJar = workerJar;
	}

	/**
	 * {@code [profile [runs | output.json]]}: the profile ({@code full} by default) once,
	 * or {@code runs} times, each on a fresh cluster, with a summary of the headline
	 * figures over the runs (median and spread) in
	 * {@code target/bench/summary-<profile>.json}.
	 */
	public static void main(String[] args) throws Exception {
		String profile = args.length > 0 ? args[0] : "full";
		int runs = args.length > 1 && args[1].matches("\\d+") ? Integer.parseInt(args[1]) : 1;
		Path gateway = Path
			.of(System.getProperty("stopline.gateway.jar", "gateway/target/gateway-0.1.0-SNAPSHOT-exec.jar"));
		Path worker = Path
			.of(System.getProperty("stopline.worker.jar", "worker/target/worker-0.1.0-SNAPSHOT-exec.jar"));
		if (profile.startsWith("stream")) {
			// ./stopline bench stream | stream-smoke: the token path under streaming load
			new StreamBenchmark(profile, gateway, worker)
				.run(Path.of(args.length > 1 ? args[1] : "target/bench/results-" + profile + ".json"));
			System.exit(0);
		}
		if (runs == 1) {
			Path out = Path.of(args.length > 1 ? args[1] : "target/bench/results-" + profile + ".json");
			new StopBenchmark(BenchProfile.of(profile), gateway, worker).run(out);
			System.exit(0);
		}
		List<Map<String, Object>> results = new ArrayList<>();
		for (int i = 1; i <= runs; i++) {
			System.out.println("stopline bench: run " + i + " of " + runs);
			results.add(new StopBenchmark(BenchProfile.of(profile), gateway, worker)
				.run(Path.of("target/bench/results-" + profile + "-" + i + ".json")));
		}
		Map<String, Object> summary = BenchSummary.of(results);
		Path out = Path.of("target/bench/summary-" + profile + ".json");
		JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build().writeValue(out.toFile(), summary);
		System.out.println();
		System.out.println("Median over " + runs + " runs (spread):");
		summary.forEach((figure, stats) -> System.out.printf("  %-70s %s%n", figure, stats));
		System.out.println("JSON: " + out.toAbsolutePath());
		System.exit(0);
	}

	Map<String, Object> run(Path out) throws Exception {
		results.put("profile", profile.name());
		results.put("started_at", Instant.now().toString());
		results.put("machine", machine());
		// -Dstopline.bench.token-delay=1h: idle runs, no background (A/B comparisons of
		// CPU per stop)
		Map<String, String> workerProperties = Map.of("stopline.model.simulated.token-delay",
				System.getProperty("stopline.bench.token-delay", "5s"), "stopline.worker.max-concurrent-runs", "20000",
				"stopline.worker.shutdown-grace", "0s");
		try (BenchCluster cluster = new BenchCluster(gatewayJar, workerJar, workerProperties)) {
			cluster.startGateway();
			warmUp(cluster);
			floors(cluster);
			if (phase("listing")) {
				listing(cluster);
			}
			if (phase("scaling")) {
				workerScaling(cluster);
			}
			cluster.startWorkers(3);
			memoryAndPopulation(cluster);
			results.put("warm_up", warmUntilCompiled(cluster, profile.activeRuns(),
					Math.max(10, profile.stopsPerRound() / 4), Duration.ofSeconds(profile.warmUpSeconds())));
			if (phase("stops")) {
				try (AutoCloseable profiling = Profiler.around("stops", cluster.nodePids())) {
					confirmedStops(cluster);
				}
			}
			if (phase("throughput")) {
				try (AutoCloseable profiling = Profiler.around("throughput", cluster.nodePids())) {
					throughput(cluster);
				}
			}
			if (phase("chat")) {
				chatStarts(cluster);
			}
			if (phase("registration")) {
				registrationOverhead(cluster);
			}
			if (phase("faults")) {
				underFaults(cluster);
			}
		}
		results.put("finished_at", Instant.now().toString());
		Files.createDirectories(out.toAbsolutePath().getParent());
		JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build().writeValue(out.toFile(), results);
		System.out.println();
		System.out.println("Stopline benchmark (" + profile.name() + ")");
		table.forEach(System.out::println);
		System.out.println("JSON: " + out.toAbsolutePath());
		return results;
	}

	/**
	 * Whether a phase runs: all by default;
	 * {@code -Dstopline.bench.phases=stops,throughput} runs only those (with the floors,
	 * the population and the warm-up every phase needs), for quicker profiling rounds.
	 */
	private static boolean phase(String name) {
		String only = System.getProperty("stopline.bench.phases", "");
		return only.isBlank() || List.of(only.split(",")).contains(name);
	}

	/**
	 * Requests that are not measured, so the gateway's (and this JVM's) hot paths are
	 * compiled before the floors are taken: authentication, the no-op endpoint and the
	 * stop lookup (a stop of a conversation nobody has answers 404).
	 */
	private void warmUp(BenchCluster cluster) {
		String token = cluster.token("bench-warm");
		for (int i = 0; i < profile.floorSamples() * 2; i++) {
			cluster.api().get(token, "/v1/auth/whoami");
			cluster.api().post(token, "/v1/conversation/warm-" + (i % 100) + "/stop");
			cluster.send(cluster.get("bench-warm", "/v1/auth/whoami"));
		}
	}

	private void floors(BenchCluster cluster) {
		Latencies ping = Floors.redisPing(cluster.redisUrl(), profile.floorSamples());
		Latencies publish = Floors.publishToReceive(cluster.redisUrl(), profile.floorSamples());
		Latencies pingClient = Floors.redisPingThroughClient(cluster, profile.floorSamples());
		Latencies publishClient = Floors.publishToListenerThroughClient(cluster, profile.floorSamples());
		Latencies noop = Floors.noOpEndpoint(cluster, profile.floorSamples());
		Latencies noopJdk = Floors.noOpEndpointJdkClient(cluster, profile.floorSamples());
		results.put("floor_redis_ping", ping.summary());
		results.put("floor_publish_to_receive", publish.summary());
		results.put("floor_redis_ping_through_client", pingClient.summary());
		results.put("floor_publish_to_listener_through_client", publishClient.summary());
		results.put("floor_noop_authenticated_endpoint", noop.summary());
		results.put("floor_noop_endpoint_jdk_httpclient", noopJdk.summary());
		row("floor: Redis PING round trip", ping);
		row("floor: PUBLISH to receive (raw)", publish);
		row("floor: PING through the nodes' client", pingClient);
		row("floor: PUBLISH to a listener, same client", publishClient);
		row("floor: no-op authenticated endpoint", noop);
		row("floor: the same through the JDK HttpClient", noopJdk);
	}

	/**
	 * GET /v1/conversations/active for a user with 10 runs while the total number of runs
	 * grows.
	 */
	private void listing(BenchCluster cluster) {
		String user = "bench-list";
		for (int i = 0; i < 10; i++) {
			reserveOnly(cluster, user, "list-" + i);
		}
		Map<String, Object> byTotal = new LinkedHashMap<>();
		int total = 10;
		for (int target : profile.listingTotals()) {
			fill(cluster, target - total);
			total = target;
			String token = cluster.token(user);
			Latencies latencies = new Latencies();
			for (int i = 0; i < profile.listingSamples() + 100; i++) {
				long start = System.nanoTime();
				Api.Answer response = cluster.api().get(token, "/v1/conversations/active");
				long took = System.nanoTime() - start;
				if (response.status() != 200 || !response.body().contains("list-9")) {
					throw new IllegalStateException("listing failed: " + response.body());
				}
				if (i >= 100) {
					latencies.add(took);
				}
			}
			byTotal.put(Integer.toString(target), latencies.summary());
			row("active listing, 10 of " + target + " runs", latencies);
		}
		results.put("active_listing_by_total_runs", byTotal);
		unlink(cluster, "stopline:{u:bench-f*");
		unlink(cluster, "stopline:{u:bench-list}*");
		// the reservations' entries in the queued-runs index go with them (they are the
		// only ones yet: no worker runs during this phase). Left behind, 100,000 stale
		// entries kept every node's sweep busy through the stop rounds (+0.6 ms on the
		// stop's p50)
		cluster.clients().template().unlink(List.of("stopline:queued"));
	}

	private void fill(BenchCluster cluster, int count) {
		Semaphore inFlight = new Semaphore(64);
		AtomicInteger next = new AtomicInteger();
		try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
			for (int i = 0; i < count; i++) {
				inFlight.acquireUninterruptibly();
				pool.execute(() -> {
					try {
						int n = next.incrementAndGet();
						reserveOnly(cluster, "bench-f" + (n % Math.max(1, count / 10)) + "-" + count, "f-" + n);
					}
					finally {
						inFlight.release();
					}
				});
			}
		}
	}

	private static void reserveOnly(BenchCluster cluster, String user, String conversation) {
		Instant now = Instant.now();
		RunRecord run = RunRecord.queued("run-" + UUID.randomUUID(), user, conversation, "bench", BenchCluster.SINK,
				now);
		cluster.registry().reserve(run, HistoryMessage.user("go", run.runId(), now));
	}

	/** Stop latency with 1, 3 and 6 workers. */
	private void workerScaling(BenchCluster cluster) {
		Map<String, Object> byWorkers = new LinkedHashMap<>();
		for (int count : profile.workerCounts()) {
			// idle runs (no token for an hour): the worker count alone varies, not the
			// load
			cluster.startWorkers(count, Map.of("stopline.model.simulated.token-delay", "1h"));
			cluster.running.clear();
			Map<String, Object> warmUp = warmUntilCompiled(cluster, profile.scalingRuns(), profile.scalingStops(),
					Duration.ofSeconds(Math.max(1, profile.warmUpSeconds() / 4)));
			topUp(cluster, profile.scalingRuns());
			Latencies latencies = stops(cluster, profile.scalingStops());
			Map<String, Object> summary = new LinkedHashMap<>(latencies.summary());
			summary.put("warm_up", warmUp);
			byWorkers.put(Integer.toString(count), summary);
			row("confirmed stop, " + count + " worker(s), " + profile.scalingRuns() + " idle runs", latencies);
			cluster.workers().forEach(NodeProcess::terminate);
			cluster.workers().forEach(worker -> worker.awaitExit(Duration.ofSeconds(60)));
			cluster.workers().clear();
			cluster.running.clear();
		}
		results.put("confirmed_stop_by_worker_count", byWorkers);
	}

	private void memoryAndPopulation(BenchCluster cluster) {
		long before = cluster.usedMemory();
		long started = System.nanoTime();
		cluster.startRuns(profile.activeRuns(), profile.users(), "run");
		double seconds = (System.nanoTime() - started) / 1e9;
		long after = cluster.usedMemory();
		double perRun = (after - before) / (double) profile.activeRuns();
		long runsHash = memoryUsage(cluster, Keys.runs("bench-u0"));
		int runsOfUser0 = cluster.registry().active("bench-u0").size();
		String worker0 = cluster.workers().get(0).name();
		long workerIndex = memoryUsage(cluster, Keys.workerRuns(worker0));
		int runsOfWorker0 = cluster.registry().runsOf(worker0).size();
		Map<String, Object> memory = new LinkedHashMap<>();
		memory.put("active_runs", profile.activeRuns());
		memory.put("used_memory_delta_bytes_per_run", Math.round(perRun));
		memory.put("ownership_record_bytes_per_run", runsOfUser0 == 0 ? 0 : runsHash / runsOfUser0);
		memory.put("worker_index_bytes_per_run", runsOfWorker0 == 0 ? 0 : workerIndex / runsOfWorker0);
		memory.put("populate_seconds", Math.round(seconds * 10) / 10.0);
		results.put("redis_memory", memory);
		table.add(String.format("%-48s %s", "Redis memory per active run",
				Math.round(perRun) + " B total (ownership record " + memory.get("ownership_record_bytes_per_run")
						+ " B + worker index " + memory.get("worker_index_bytes_per_run")
						+ " B; the rest is history and the conversation index)"));
	}

	private static long memoryUsage(BenchCluster cluster, String key) {
		// MEMORY USAGE, through Redisson (its Spring Data connection does not pass
		// arbitrary commands)
		return cluster.clients().redisson().getMap(key, org.redisson.client.codec.StringCodec.INSTANCE).sizeInMemory();
	}

	/**
	 * The three workers are new: stops (not measured) until the JIT compilers of the
	 * gateway and workers fall quiet (under 5 % of a core), or the profile's warm-up time
	 * is up. Measuring while C2 still compiles measures the compiler: it took a quarter
	 * to a half of the nodes' CPU in the first runs.
	 */
	private Map<String, Object> warmUntilCompiled(BenchCluster cluster, int runs, int batch, Duration budget) {
		long deadline = System.nanoTime() + budget.toNanos();
		int stops = 0;
		double compiling = Double.NaN;
		while (System.nanoTime() < deadline) {
			topUp(cluster, runs);
			long jit = CpuTime.compilers(cluster.nodePids().values());
			long start = System.nanoTime();
			stops(cluster, batch);
			stops += batch;
			compiling = (CpuTime.compilers(cluster.nodePids().values()) - jit) / (double) (System.nanoTime() - start);
			if (compiling < 0.05) {
				break;
			}
		}
		Map<String, Object> warmUp = new LinkedHashMap<>();
		warmUp.put("stops", stops);
		warmUp.put("jit_cores_busy_in_last_batch", Latencies.round(compiling));
		table.add(String.format("%-48s %s", "  warm-up (stops until the JIT is quiet)", warmUp));
		return warmUp;
	}

	/**
	 * Confirmed stop latency with the full load of active runs, in rounds; propagation
	 * from the workers.
	 */
	private void confirmedStops(BenchCluster cluster) {
		List<Map<String, Object>> rounds = new ArrayList<>();
		Latencies all = new Latencies();
		Map<Double, Double> cancelledBefore = cluster.workerHistogram("stopline_stop_propagation_seconds",
				"stage=\"cancelled\"");
		Map<Double, Double> unregisteredBefore = cluster.workerHistogram("stopline_stop_propagation_seconds",
				"stage=\"unregistered\"");
		List<Map<String, Object>> floorRounds = new ArrayList<>();
		Map<String, long[]> commands = new java.util.TreeMap<>();
		int stopped = 0;
		for (int round = 0; round < profile.rounds(); round++) {
			topUp(cluster);
			// the no-op endpoint again, under the same background load as the stops
			Latencies floor = Floors.noOpEndpoint(cluster, profile.stopsPerRound());
			floorRounds.add(floor.summary());
			row("floor under load: no-op endpoint, round " + (round + 1), floor);
			Map<String, Long> background = quietCpu(cluster, Duration.ofSeconds(1));
			Map<String, long[]> commandsBefore = cluster.commandStats();
			Map<String, Long> cpuBefore = CpuTime.sample(cluster.pids());
			long began = System.nanoTime();
			Latencies latencies = stops(cluster, profile.stopsPerRound());
			cluster.commandStats().forEach((command, now) -> {
				long[] was = commandsBefore.getOrDefault(command, new long[2]);
				commands.merge(command, new long[] { now[0] - was[0], now[1] - was[1] },
						(a, b) -> new long[] { a[0] + b[0], a[1] + b[1] });
			});
			Map<String, Object> cpu = perOperation(CpuTime.delta(cpuBefore, CpuTime.sample(cluster.pids())), background,
					(System.nanoTime() - began) / 1e9, profile.stopsPerRound());
			Map<String, Object> summary = new LinkedHashMap<>(latencies.summary());
			summary.put("cpu_ms_per_stop", cpu);
			rounds.add(summary);
			for (double q : new double[] { 0.5, 0.9, 0.99 }) {
				all.add((long) (latencies.ms(q) * 1e6));
			}
			row("confirmed stop, " + profile.activeRuns() + " runs, round " + (round + 1), latencies);
			table.add(String.format("%-48s %s", "  CPU ms per stop, background taken off", cpu));
			stopped += profile.stopsPerRound();
		}
		Map<String, Object> perStop = perStop(commands, stopped);
		results.put("redis_commands_per_sequential_stop", perStop);
		table.add(String.format("%-48s %s", "Redis commands per stop (calls, us; background in)", perStop));
		results.put("confirmed_stop_rounds", rounds);
		results.put("confirmed_stop_median_of_rounds", medianOfRounds(rounds));
		results.put("floor_noop_endpoint_under_load", medianOfRounds(floorRounds));
		topUp(cluster);
		Latencies jdk = stopsThroughJdkClient(cluster, profile.stopsPerRound());
		results.put("confirmed_stop_jdk_httpclient", jdk.summary());
		row("confirmed stop, the same through the JDK HttpClient", jdk);
		Map<String, Object> propagation = new LinkedHashMap<>();
		propagation.put("cancelled", quantiles(delta(cancelledBefore,
				cluster.workerHistogram("stopline_stop_propagation_seconds", "stage=\"cancelled\""))));
		propagation.put("unregistered", quantiles(delta(unregisteredBefore,
				cluster.workerHistogram("stopline_stop_propagation_seconds", "stage=\"unregistered\""))));
		results.put("propagation_from_worker_histograms_ms", propagation);
		table.add(String.format("%-48s %s", "propagation (publish to cancel / unregister)",
				"cancelled " + propagation.get("cancelled") + "; unregistered " + propagation.get("unregistered")));
		Map<String, Object> ratios = new LinkedHashMap<>();
		@SuppressWarnings("unchecked")
		Map<String, Object> median = (Map<String, Object>) results.get("confirmed_stop_median_of_rounds");
		ratios.put("p50_over_redis_ping_p50", ratio(median.get("p50_ms"), "floor_redis_ping"));
		ratios.put("p50_over_redis_ping_through_client_p50",
				ratio(median.get("p50_ms"), "floor_redis_ping_through_client"));
		ratios.put("p50_over_noop_endpoint_p50", ratio(median.get("p50_ms"), "floor_noop_authenticated_endpoint"));
		ratios.put("p50_over_publish_to_receive_p50", ratio(median.get("p50_ms"), "floor_publish_to_receive"));
		ratios.put("p50_over_noop_endpoint_under_load_p50",
				ratio(median.get("p50_ms"), "floor_noop_endpoint_under_load"));
		results.put("confirmed_stop_ratios", ratios);
		table.add(String.format("%-48s %s", "confirmed stop p50 / floors", ratios));
	}

	@SuppressWarnings("unchecked")
	private double ratio(Object value, String floor) {
		double floorP50 = ((Number) ((Map<String, Object>) results.get(floor)).get("p50_ms")).doubleValue();
		return Latencies.round(((Number) value).doubleValue() / floorP50);
	}

	private static Map<String, Object> medianOfRounds(List<Map<String, Object>> rounds) {
		Map<String, Object> median = new LinkedHashMap<>();
		for (String key : List.of("p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms")) {
			List<Double> values = rounds.stream().map(r -> ((Number) r.get(key)).doubleValue()).sorted().toList();
			median.put(key, values.get(values.size() / 2));
			median.put(key.replace("_ms", "_spread_ms"), List.of(values.get(0), values.get(values.size() - 1)));
		}
		return median;
	}

	private void topUp(BenchCluster cluster) {
		topUp(cluster, profile.activeRuns());
	}

	private void topUp(BenchCluster cluster, int runs) {
		int missing = runs - cluster.running.size();
		if (missing > 0) {
			cluster.startRuns(missing, profile.users(), "top" + UUID.randomUUID().toString().substring(0, 6));
		}
	}

	/** Sequential confirmed stops of running runs; every answer must be 200. */
	private static Latencies stops(BenchCluster cluster, int count) {
		return stops(cluster, count, run -> cluster.stop(run[0], run[1]));
	}

	/**
	 * As {@link #stops}, through the JDK client the earlier runs used (comparison only).
	 */
	private static Latencies stopsThroughJdkClient(BenchCluster cluster, int count) {
		return stops(cluster, count, run -> {
			HttpResponse<String> response = cluster.send(cluster.stopRequest(run[0], run[1]));
			return new Api.Answer(response.statusCode(), response.body());
		});
	}

	private static Latencies stops(BenchCluster cluster, int count,
			java.util.function.Function<String[], Api.Answer> stop) {
		Latencies latencies = new Latencies();
		for (int i = 0; i < count; i++) {
			String[] run = cluster.running.pollFirst();
			if (run == null) {
				throw new IllegalStateException("no running run left to stop");
			}
			cluster.token(run[0]);
			long start = System.nanoTime();
			Api.Answer response = stop.apply(run);
			long took = System.nanoTime() - start;
			if (response.status() != 200 || !response.body().contains("Successfully")) {
				throw new IllegalStateException(
						"stop of " + run[1] + " answered " + response.status() + " " + response.body());
			}
			latencies.add(took);
		}
		return latencies;
	}

	/** Open-loop stops at rising rates through one gateway, until p99 passes 10 ms. */
	private void throughput(BenchCluster cluster) throws Exception {
		List<Map<String, Object>> steps = new ArrayList<>();
		int sustained = 0;
		int maxSustained = 0;
		// unmeasured load first: the nodes' JIT compiles the concurrent paths (it took
		// half a core per 1,000 stops/s when the first measured step met them cold)
		results.put("throughput_warm_up", warmUpUnderLoad(cluster));
		// the background's CPU (the active runs streaming tokens) over a quiet spell,
		// taken off each step's CPU before dividing by its requests
		Map<String, Long> background = quietCpu(cluster, Duration.ofSeconds(Math.max(1, profile.stepSeconds() * 3)));
		// the floor: the no-op authenticated request at the same rising rates
		String floorToken = cluster.token("bench-floor");
		List<Map<String, Object>> floorSteps = new ArrayList<>();
		int floorSustained = 0;
		for (int rate : profile.rates()) {
			OpenLoop noop = openLoop(rate, rate * profile.stepSeconds(),
					i -> cluster.load().get(floorToken, "/v1/auth/whoami"), cluster, background);
			Map<String, Object> step = new LinkedHashMap<>(noop.latencies().summary());
			step.put("cpu_ms_per_request", noop.cpuPerRequest());
			step.put("offered_per_s", rate);
			long achieved = Math.round(rate * profile.stepSeconds() / noop.seconds());
			step.put("achieved_per_s", achieved);
			floorSteps.add(step);
			row("floor: open-loop no-op at " + rate + "/s (achieved " + achieved + "/s)", noop.latencies());
			if (floorSteps.size() == 1) {
				results.put("cpu_ms_per_noop_request", noop.cpuPerRequest());
				table.add(String.format("%-48s %s", "  CPU ms per no-op request", noop.cpuPerRequest()));
			}
			if (noop.errors() > 0 || achieved < rate * 0.95) {
				break;
			}
			if (noop.latencies().ms(0.99) <= 10) {
				floorSustained = rate;
			}
		}
		results.put("noop_throughput_steps", floorSteps);
		results.put("noop_throughput_sustained_per_s_with_p99_under_10ms", floorSustained);
		table.add(String.format("%-48s %d/s", "floor: no-op requests with p99 <= 10 ms", floorSustained));
		for (int rate : profile.rates()) {
			List<String[]> runs = stepOfRuns(cluster, rate);
			int count = runs.size();
			OpenLoop loop = openLoop(rate, count, i -> cluster.stopAsync(runs.get(i)[0], runs.get(i)[1]), cluster,
					background);
			Map<String, Object> step = new LinkedHashMap<>(loop.latencies().summary());
			step.put("cpu_ms_per_stop", loop.cpuPerRequest());
			step.put("offered_per_s", rate);
			step.put("achieved_per_s", Math.round(count / loop.seconds()));
			step.put("errors", loop.errors());
			steps.add(step);
			row("open-loop stops at " + rate + "/s (achieved " + step.get("achieved_per_s") + "/s, " + loop.errors()
					+ " errors)", loop.latencies());
			table.add(String.format("%-48s %s", "  CPU ms per stop, background taken off", loop.cpuPerRequest()));
			long achieved = (Long) step.get("achieved_per_s");
			if (loop.errors() > 0 || achieved < rate * 0.95) {
				break;
			}
			maxSustained = rate;
			if (loop.latencies().ms(0.99) <= 10) {
				sustained = rate;
			}
		}
		results.put("stop_throughput_steps", steps);
		results.put("stop_throughput_sustained_per_s_with_p99_under_10ms", sustained);
		results.put("stop_throughput_max_sustained_per_s", maxSustained);
		table.add(String.format("%-48s %d/s (highest rate sustained at all: %d/s)", "stops with p99 <= 10 ms",
				sustained, maxSustained));
	}

	/**
	 * CPU nanoseconds per second of each role while nothing is asked of the cluster: the
	 * background (the active runs' tokens) to take off a measurement.
	 */
	private static Map<String, Long> quietCpu(BenchCluster cluster, Duration spell) {
		Map<String, Long> before = CpuTime.sample(cluster.pids());
		long start = System.nanoTime();
		BenchCluster.sleep(spell);
		Map<String, Long> delta = CpuTime.delta(before, CpuTime.sample(cluster.pids()));
		double seconds = (System.nanoTime() - start) / 1e9;
		Map<String, Long> perSecond = new LinkedHashMap<>();
		delta.forEach((role, nanos) -> perSecond.put(role, Math.round(nanos / seconds)));
		return perSecond;
	}

	/**
	 * Redis's own work per stop, by command: calls and microseconds (the background's
	 * commands, tokens and heartbeats, included).
	 */
	private static Map<String, Object> perStop(Map<String, long[]> commands, int stops) {
		Map<String, Object> perStop = new LinkedHashMap<>();
		long totalMicros = 0;
		for (Map.Entry<String, long[]> command : commands.entrySet()) {
			long calls = command.getValue()[0];
			long micros = command.getValue()[1];
			// a script's time includes the commands it calls
			totalMicros += command.getKey().startsWith("eval") ? micros : 0;
			if (calls >= stops / 10) {
				perStop.put(command.getKey(),
						List.of(Latencies.round(calls / (double) stops), Latencies.round(micros / (double) stops)));
			}
		}
		perStop.put("scripts_us", Latencies.round(totalMicros / (double) stops));
		return perStop;
	}

	/** CPU ms per operation by role, {@code background} (per second) taken off. */
	private static Map<String, Object> perOperation(Map<String, Long> cpu, Map<String, Long> background, double seconds,
			int count) {
		Map<String, Object> perOperation = new LinkedHashMap<>();
		double total = 0;
		for (Map.Entry<String, Long> role : cpu.entrySet()) {
			double ms = (role.getValue() - background.get(role.getKey()) * seconds) / 1e6 / count;
			perOperation.put(role.getKey(), Latencies.round(ms));
			total += ms;
		}
		perOperation.put("total", Latencies.round(total));
		return perOperation;
	}

	/**
	 * Open-loop stops at rising rates, not measured, until the nodes' JIT compilers fall
	 * quiet (or half the profile's warm-up time is up).
	 */
	private Map<String, Object> warmUpUnderLoad(BenchCluster cluster) {
		long deadline = System.nanoTime() + Duration.ofSeconds(Math.max(1, profile.warmUpSeconds() / 2)).toNanos();
		int stops = 0;
		double compiling = Double.NaN;
		Map<String, Long> none = new LinkedHashMap<>();
		cluster.pids().keySet().forEach(role -> none.put(role, 0L));
		do {
			for (int rate : profile.rates()) {
				if (rate > 1_000) {
					break;
				}
				List<String[]> runs = stepOfRuns(cluster, rate);
				long jit = CpuTime.compilers(cluster.nodePids().values());
				long start = System.nanoTime();
				openLoop(rate, runs.size(), i -> cluster.stopAsync(runs.get(i)[0], runs.get(i)[1]), cluster, none);
				stops += runs.size();
				compiling = (CpuTime.compilers(cluster.nodePids().values()) - jit)
						/ (double) (System.nanoTime() - start);
			}
		}
		while (compiling >= 0.05 && System.nanoTime() < deadline);
		Map<String, Object> warmUp = new LinkedHashMap<>();
		warmUp.put("stops", stops);
		warmUp.put("jit_cores_busy_in_last_step", Latencies.round(compiling));
		table.add(String.format("%-48s %s", "  warm-up under load (not measured)", warmUp));
		return warmUp;
	}

	/**
	 * One step's worth of running runs at {@code rate}, their owners' tokens fetched
	 * beforehand so no step waits for one.
	 */
	private List<String[]> stepOfRuns(BenchCluster cluster, int rate) {
		topUp(cluster);
		int count = Math.min(rate * profile.stepSeconds(), cluster.running.size());
		List<String[]> runs = new ArrayList<>(count);
		for (int i = 0; i < count; i++) {
			String[] run = cluster.running.pollFirst();
			cluster.token(run[0]);
			runs.add(run);
		}
		return runs;
	}

	/** What an open-loop step measured. */
	private record OpenLoop(Latencies latencies, int errors, double seconds, Map<String, Object> cpuPerRequest) {
	}

	/**
	 * {@code count} requests at {@code rate} per second, sent at their intended times
	 * through the asynchronous client whatever the answers before them (latency from the
	 * intended send time: no coordinated omission); CPU per request by role, the
	 * background's share taken off, and the nodes' JIT compiler threads' share shown
	 * apart.
	 */
	private static OpenLoop openLoop(int rate, int count,
			java.util.function.IntFunction<CompletableFuture<Integer>> request, BenchCluster cluster,
			Map<String, Long> background) {
		Latencies latencies = new Latencies();
		AtomicInteger errors = new AtomicInteger();
		long interval = 1_000_000_000L / rate;
		Map<String, Long> cpuBefore = CpuTime.sample(cluster.pids());
		long jitBefore = CpuTime.compilers(cluster.nodePids().values());
		long begin = System.nanoTime();
		List<CompletableFuture<Integer>> answers = new ArrayList<>(count);
		for (int i = 0; i < count; i++) {
			long intended = begin + i * interval;
			long wait = intended - System.nanoTime();
			if (wait > 0) {
				LockSupport.parkNanos(wait);
			}
			answers.add(request.apply(i).whenComplete((status, failure) -> {
				latencies.add(System.nanoTime() - intended);
				if (failure != null || status != 200) {
					errors.incrementAndGet();
				}
			}));
		}
		try {
			CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
				.get(2, java.util.concurrent.TimeUnit.MINUTES);
		}
		catch (Exception ex) {
			throw new IllegalStateException("open-loop requests did not finish", ex);
		}
		double seconds = (System.nanoTime() - begin) / 1e9;
		Map<String, Long> cpu = CpuTime.delta(cpuBefore, CpuTime.sample(cluster.pids()));
		long jit = CpuTime.compilers(cluster.nodePids().values()) - jitBefore;
		Map<String, Object> perRequest = perOperation(cpu, background, seconds, count);
		perRequest.put("of_which_jit", Latencies.round(jit / 1e6 / count));
		return new OpenLoop(latencies, errors.get(), seconds, perRequest);
	}

	/**
	 * Chat starts per second through one gateway: streaming requests until the response
	 * headers arrive.
	 */
	private void chatStarts(BenchCluster cluster) throws Exception {
		AtomicLong started = new AtomicLong();
		Map<Integer, AtomicLong> statuses = new java.util.concurrent.ConcurrentHashMap<>();
		AtomicBoolean going = new AtomicBoolean(true);
		Latencies latencies = new Latencies();
		String token = cluster.token("bench-chat");
		long begin = System.nanoTime();
		try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
			for (int client = 0; client < 16; client++) {
				pool.execute(() -> {
					while (going.get()) {
						String body = "{\"model\":\"bench\",\"stream\":true,\"max_tokens\":1,\"conversation_id\":\"chat-"
								+ UUID.randomUUID() + "\",\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}";
						HttpRequest chat = HttpRequest
							.newBuilder(URI.create(cluster.gatewayUrl() + "/v1/chat/completions"))
							.header("Authorization", "Bearer " + token)
							.header("Content-Type", "application/json")
							.POST(HttpRequest.BodyPublishers.ofString(body))
							.build();
						long start = System.nanoTime();
						try {
							HttpResponse<InputStream> response = cluster.http()
								.send(chat, HttpResponse.BodyHandlers.ofInputStream());
							latencies.add(System.nanoTime() - start);
							statuses.computeIfAbsent(response.statusCode(), status -> new AtomicLong())
								.incrementAndGet();
							if (response.statusCode() == 200) {
								started.incrementAndGet();
							}
							response.body().close();
						}
						catch (IOException ex) {
							throw new UncheckedIOException(ex);
						}
						catch (InterruptedException ex) {
							Thread.currentThread().interrupt();
							return;
						}
					}
				});
			}
			BenchCluster.sleep(Duration.ofSeconds(profile.chatStartSeconds()));
			going.set(false);
		}
		double seconds = (System.nanoTime() - begin) / 1e9;
		long perSecond = Math.round(started.get() / seconds);
		Map<String, Object> chat = new LinkedHashMap<>(latencies.summary());
		chat.put("starts_per_s", perSecond);
		chat.put("statuses", statuses);
		results.put("chat_starts", chat);
		row("chat start (to response headers), " + perSecond + "/s, 16 clients " + statuses, latencies);
	}

	/**
	 * What the registry costs a run: reserve, claim and finish, the same calls a real run
	 * makes.
	 */
	private void registrationOverhead(BenchCluster cluster) {
		Latencies latencies = new Latencies();
		for (int i = 0; i < profile.registrationRuns() + 200; i++) {
			Instant now = Instant.now();
			RunRecord queued = RunRecord.queued("run-" + UUID.randomUUID(), "bench-reg", "reg-" + i, "bench",
					BenchCluster.SINK, now);
			long start = System.nanoTime();
			cluster.registry().reserve(queued, HistoryMessage.user("go", queued.runId(), now));
			RunRecord running = cluster.registry().claim(queued, "bench-reg-worker", now).orElseThrow();
			cluster.registry().finish(running, RunOutcome.complete("done", now));
			long took = System.nanoTime() - start;
			if (i >= 200) {
				latencies.add(took);
			}
		}
		results.put("registration_overhead_per_run", latencies.summary());
		row("registry cost per run (reserve+claim+finish)", latencies);
	}

	/**
	 * Stop latency while every subscribed connection is killed once a second: the durable
	 * path's worst case.
	 */
	private void underFaults(BenchCluster cluster) {
		topUp(cluster);
		AtomicBoolean killing = new AtomicBoolean(true);
		AtomicInteger kills = new AtomicInteger();
		Thread killer = Thread.ofVirtual().start(() -> {
			while (killing.get()) {
				kills.addAndGet(killSubscribers(cluster.redisUrl()));
				BenchCluster.sleep(Duration.ofSeconds(1));
			}
		});
		Latencies latencies = new Latencies();
		Map<Integer, Integer> statuses = new LinkedHashMap<>();
		try {
			long begin = System.nanoTime();
			for (int i = 0; i < profile.faultStops(); i++) {
				// paced, so the stops span many kills (200 stops: 10 s, about 10 kills)
				long wait = begin + i * FAULT_PACE.toNanos() - System.nanoTime();
				if (wait > 0) {
					LockSupport.parkNanos(wait);
				}
				String[] run = cluster.running.pollFirst();
				long start = System.nanoTime();
				Api.Answer response = cluster.stop(run[0], run[1]);
				latencies.add(System.nanoTime() - start);
				statuses.merge(response.status(), 1, Integer::sum);
			}
		}
		finally {
			killing.set(false);
			try {
				killer.join();
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
		Map<String, Object> faults = new LinkedHashMap<>(latencies.summary());
		faults.put("answers", statuses);
		faults.put("subscriber_connections_killed", kills.get());
		results.put("stop_under_subscription_kills", faults);
		row("stop while subscriptions die every 1 s " + statuses, latencies);
	}

	/** One stop this often while the subscriptions are being killed. */
	private static final Duration FAULT_PACE = Duration.ofMillis(50);

	private static int killSubscribers(String redisUrl) {
		URI uri = URI.create(redisUrl);
		try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
			socket.getOutputStream()
				.write("*4\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$4\r\nTYPE\r\n$6\r\npubsub\r\n".getBytes());
			String reply = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream()))
				.readLine();
			return reply != null && reply.startsWith(":") ? Integer.parseInt(reply.substring(1)) : 0;
		}
		catch (IOException ex) {
			return 0;
		}
	}

	private static void unlink(BenchCluster cluster, String pattern) {
		var template = cluster.clients().template();
		List<String> batch = new ArrayList<>();
		try (var cursor = template
			.scan(org.springframework.data.redis.core.ScanOptions.scanOptions().match(pattern).count(1000).build())) {
			cursor.forEachRemaining(key -> {
				batch.add(key);
				if (batch.size() == 1000) {
					template.unlink(List.copyOf(batch));
					batch.clear();
				}
			});
		}
		if (!batch.isEmpty()) {
			template.unlink(batch);
		}
	}

	static Map<Double, Double> delta(Map<Double, Double> before, Map<Double, Double> after) {
		Map<Double, Double> delta = new java.util.TreeMap<>();
		after.forEach((le, count) -> delta.put(le, count - before.getOrDefault(le, 0.0)));
		return delta;
	}

	/**
	 * Quantiles from cumulative Prometheus buckets (each reported as its bucket's upper
	 * bound), in ms.
	 */
	static Map<String, Object> quantiles(Map<Double, Double> cumulative) {
		Map<String, Object> quantiles = new LinkedHashMap<>();
		double total = cumulative.getOrDefault(Double.POSITIVE_INFINITY, 0.0);
		quantiles.put("samples", Math.round(total));
		for (double q : new double[] { 0.5, 0.9, 0.99 }) {
			double bound = Double.NaN;
			for (Map.Entry<Double, Double> bucket : cumulative.entrySet()) {
				if (bucket.getValue() >= q * total && total > 0) {
					bound = bucket.getKey();
					break;
				}
			}
			quantiles.put("p" + Math.round(q * 100) + "_ms_at_most", Latencies.round(bound * 1000));
		}
		return quantiles;
	}

	private void row(String what, Latencies latencies) {
		table.add(String.format("%-48s p50 %7.3f  p90 %7.3f  p99 %7.3f  p99.9 %7.3f  max %8.3f ms  (n=%d)", what,
				latencies.ms(0.5), latencies.ms(0.9), latencies.ms(0.99), latencies.ms(0.999), latencies.ms(1.0),
				latencies.size()));
	}

	private static Map<String, Object> machine() {
		Map<String, Object> machine = new LinkedHashMap<>();
		machine.put("cpus", Runtime.getRuntime().availableProcessors());
		machine.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
		machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
		try {
			Process version = new ProcessBuilder("redis-server", "--version").start();
			machine.put("redis", new String(version.getInputStream().readAllBytes()).trim());
		}
		catch (IOException ex) {
			machine.put("redis", "unknown");
		}
		return machine;
	}

}
