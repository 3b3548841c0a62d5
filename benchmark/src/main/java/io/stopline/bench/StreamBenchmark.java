package io.stopline.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code ./stopline bench stream}: K chats streaming to attached SSE clients (a share
 * also watched by a WebSocket), 1 gateway + 2 workers, the simulated model at
 * {@code speed} tokens/s. For each K of the sweep, while the chats stream: tokens
 * delivered per second, CPU per delivered token by process, emit-to-client latency, stop
 * latency, chat start overhead and errors; beside it, in the same run, the floor relay
 * ({@link FloorRelay}) streaming the same K at the same speed. Then a burst of send/stop
 * pairs.
 *
 * <p>
 * System properties: {@code stopline.bench.stream.ks} (e.g. {@code 25,50,100}),
 * {@code .speed} (tokens/s, 50), {@code .burst} (tokens per delivery, 1),
 * {@code .seconds} (measured window per step, 8), {@code .watched} (share with a
 * WebSocket, 0.2), {@code .stops} (stops per second while streaming, 5), {@code .pairs}
 * (the burst, 500), {@code .burst-warm-ups} (unmeasured bursts before the one measured
 * with the nodes' code compiled, 8).
 */
final class StreamBenchmark {

	private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

	private final String profile;

	private final List<Integer> ks;

	private final int speed;

	private final int burst;

	private static final String PROPAGATION = "stopline_stop_propagation_seconds";

	private static final String GATEWAY_STOP = "stopline_stop_latency_seconds";

	private static final String RUN_START = "stopline_run_start_seconds";

	private static final String SCHEDULER_LAG = "stopline_scheduler_lag_seconds";

	private static final String HTTP_REQUESTS = "http_server_requests_seconds";

	private static final String STOP_URI = "uri=\"/v1/conversation/{conversationId}/stop\"";

	private final int seconds;

	private final double watchedShare;

	private final int stopsPerSecond;

	private final int pairs;

	private final int burstWarmUps;

	private final Path gatewayJar;

	private final Path workerJar;

	private final Random random = new Random(42);

	private final Map<String, Object> results = new LinkedHashMap<>();

	private final List<String> table = new ArrayList<>();

	StreamBenchmark(String profile, Path gatewayJar, Path workerJar) {
		this.profile = profile;
		boolean smoke = profile.equals("stream-smoke");
		this.ks = parse(System.getProperty("stopline.bench.stream.ks", smoke ? "10,20" : "25,50,100,200,400,800"));
		this.speed = Integer.getInteger("stopline.bench.stream.speed", 50);
		this.burst = Integer.getInteger("stopline.bench.stream.burst", 1);
		this.seconds = Integer.getInteger("stopline.bench.stream.seconds", smoke ? 2 : 8);
		this.watchedShare = Double.parseDouble(System.getProperty("stopline.bench.stream.watched", "0.2"));
		this.stopsPerSecond = Integer.getInteger("stopline.bench.stream.stops", 5);
		this.pairs = Integer.getInteger("stopline.bench.stream.pairs", smoke ? 40 : 500);
		this.burstWarmUps = Integer.getInteger("stopline.bench.stream.burst-warm-ups", smoke ? 0 : 8);
		this.gatewayJar = gatewayJar;
		this.workerJar = workerJar;
	}

	private static List<Integer> parse(String list) {
		return java.util.Arrays.stream(list.split(",")).map(String::trim).map(Integer::parseInt).toList();
	}

	Map<String, Object> run(Path out) throws Exception {
		results.put("profile", profile);
		results.put("started_at", Instant.now().toString());
		results.put("speed_tokens_per_s", speed);
		results.put("burst", burst);
		results.put("watched_share", watchedShare);
		Map<String, String> worker = Map.of("stopline.model.simulated.token-delay", Math.max(1, 1000 / speed) + "ms",
				"stopline.model.simulated.burst", Integer.toString(burst), "stopline.model.simulated.clock-tokens",
				"true", "stopline.worker.max-concurrent-runs", "5000", "stopline.worker.shutdown-grace", "0s");
		int maxK = ks.stream().mapToInt(Integer::intValue).max().orElse(10);
		try (BenchCluster cluster = new BenchCluster(gatewayJar, workerJar, worker);
				StreamClients clients = new StreamClients(maxK * 2 + pairs + 64);
				FloorRelay floor = new FloorRelay(cluster.redisUrl())) {
			cluster.startGateway();
			cluster.startWorkers(2);
			results.put("warm_up", warmUp(cluster, clients));
			idleCores = idle(cluster);
			results.put("idle_cores_busy", idleCores);
			List<Map<String, Object>> steps = new ArrayList<>();
			for (int k : ks) {
				Map<String, Object> step = step(cluster, clients, k);
				step.put("floor_relay", floorStep(floor, clients, k));
				double ours = ((Number) step.get("cpu_us_per_token_gateway_plus_workers")).doubleValue();
				double theirs = ((Number) ((Map<?, ?>) step.get("floor_relay")).get("cpu_us_per_token")).doubleValue();
				step.put("ratio_to_floor", Latencies.round(ours / theirs));
				step.put("ratio_to_floor_above_idle",
						Latencies
							.round(((Number) step.get("cpu_us_per_token_gateway_plus_workers_above_idle")).doubleValue()
									/ theirs));
				steps.add(step);
				table.add(String.format(
						"K=%-4d %8.0f tok/s (%.0f%% of offered)  cpu/token gw+workers %7.1f us  floor %5.1f us  x%5.1f  delivery p50/p99 %6.1f/%7.1f ms  stop p50/p99/max %6.1f/%7.1f/%7.1f ms  start+ p50 %6.1f ms (to emit %.1f, delivery %.1f)  errors %s  stop on nodes %s  stop stages %s  stop floors %s  scheduler lag %s  load generator's GC %s",
						k, num(step.get("tokens_per_s")), num(step.get("delivered_share_pct")), ours, theirs,
						num(step.get("ratio_to_floor")), num(at(step, "delivery", "p50_ms")),
						num(at(step, "delivery", "p99_ms")), num(at(step, "stop", "p50_ms")),
						num(at(step, "stop", "p99_ms")), num(at(step, "stop", "max_ms")),
						num(at(step, "start_overhead", "p50_ms")),
						num(at(step, "start_overhead_to_first_emit", "p50_ms")),
						num(at(step, "start_first_token_delivery", "p50_ms")), step.get("errors"),
						step.get("stop_on_nodes"), step.get("stop_stages"), step.get("stop_floors"),
						step.get("scheduler_lag"), step.get("load_generator_gc")));
				if (Boolean.TRUE.equals(step.get("saturated"))) {
					results.put("saturated_at_k", k);
					break;
				}
			}
			results.put("steps", steps);
			try (AutoCloseable profiling = Profiler.around("stream-burst", cluster.nodePids())) {
				results.put("send_stop_burst", burst(cluster, clients));
				// the same again at once: the clients' connections from the first are
				// kept alive, so this one measures the nodes without 1,000 TCP
				// handshakes (a load balancer keeps its connections to the gateways open
				// the same way)
				results.put("send_stop_burst_warm_connections", burst(cluster, clients));
			}
			// a gateway that has served for hours has compiled the send's and the stop's
			// paths long ago; the bursts above are the first of their kind in this JVM
			// and compile while measured (a third to half of the nodes' CPU in the
			// burst's profile). The same burst again after a few unmeasured ones: the
			// nodes' figure with their code warm.
			if (burstWarmUps > 0) {
				for (int i = 0; i < burstWarmUps; i++) {
					burst(cluster, clients);
				}
				try (AutoCloseable profiling = Profiler.around("stream-burst-warm", cluster.nodePids())) {
					results.put("send_stop_burst_warm_code", burst(cluster, clients));
				}
				results.put("burst_warm_ups", burstWarmUps);
			}
			try (AutoCloseable profiling = Profiler.around("stream-starts", cluster.nodePids())) {
				results.put("chat_start_rates", startRates(cluster, clients));
			}
			report(out);
		}
		return results;
	}

	private void report(Path out) throws java.io.IOException {
		Files.createDirectories(out.getParent());
		JSON.writeValue(out.toFile(), results);
		System.out.println(
				"Stopline streaming benchmark (" + profile + ", " + speed + " tokens/s per chat, burst " + burst + ")");
		table.forEach(System.out::println);
		System.out.println("send/stop burst: " + results.get("send_stop_burst"));
		System.out.println(
				"send/stop burst, connections kept from the first: " + results.get("send_stop_burst_warm_connections"));
		if (results.containsKey("send_stop_burst_warm_code")) {
			System.out.println("send/stop burst, after " + burstWarmUps + " unmeasured bursts (code compiled): "
					+ results.get("send_stop_burst_warm_code"));
		}
		System.out.println("chat starts (open loop, one-token chats): " + results.get("chat_start_rates"));
		System.out.println("JSON: " + out.toAbsolutePath());
	}

	private static double num(Object value) {
		return value instanceof Number number ? number.doubleValue() : Double.NaN;
	}

	private static Object at(Map<String, Object> step, String key, String field) {
		return ((Map<?, ?>) step.get(key)).get(field);
	}

	/**
	 * Streams chats until the nodes' JIT compilers fall quiet (under 5 % of a core over
	 * two seconds, at least 15 s, at most {@code stopline.bench.stream.warm-up} seconds),
	 * so the measured steps see compiled code, not compilation.
	 */
	/** Cores each process keeps busy with no chat at all: the nodes' fixed background. */
	private Map<String, Double> idleCores = Map.of();

	private Map<String, Double> idle(BenchCluster cluster) {
		BenchCluster.sleep(Duration.ofSeconds(5));
		Map<String, Long> before = CpuTime.sample(cluster.pids());
		long began = System.nanoTime();
		BenchCluster.sleep(Duration.ofSeconds(5));
		double elapsed = (System.nanoTime() - began) / 1e9;
		Map<String, Double> cores = new LinkedHashMap<>();
		CpuTime.delta(before, CpuTime.sample(cluster.pids()))
			.forEach((role, nanos) -> cores.put(role, Latencies.round(nanos / 1e9 / elapsed)));
		return cores;
	}

	private Map<String, Object> warmUp(BenchCluster cluster, StreamClients clients) {
		int k = Math.max(ks.get(0), Math.min(100, ks.get(ks.size() - 1)));
		long budget = TimeUnit.SECONDS
			.toNanos(Integer.getInteger("stopline.bench.stream.warm-up", profile.equals("stream-smoke") ? 5 : 90));
		long began = System.nanoTime();
		List<Chat> chats = new ArrayList<>();
		int i = 0;
		double compilerShare = 1;
		long lastCompiler = CpuTime.compilers(cluster.nodePids().values());
		long lastAt = System.nanoTime();
		while (System.nanoTime() - began < budget) {
			// chats of a few seconds, renewed, so starts, stops and ends are compiled too
			while (chats.size() < k) {
				chats.add(startChat(cluster, clients, i++, speed * 3, i % 5 == 0));
			}
			chats.removeIf(chat -> chat.stream().ended.isDone());
			if (i % 7 == 0 && !chats.isEmpty()) {
				Chat victim = chats.remove(0);
				cluster.stopAsync(victim.user(), victim.conversation());
			}
			BenchCluster.sleep(Duration.ofMillis(200));
			long now = System.nanoTime();
			if (now - lastAt >= TimeUnit.SECONDS.toNanos(2)) {
				long compiler = CpuTime.compilers(cluster.nodePids().values());
				compilerShare = (compiler - lastCompiler) / (double) (now - lastAt);
				lastCompiler = compiler;
				lastAt = now;
				if (compilerShare < 0.05
						&& now - began > TimeUnit.SECONDS.toNanos(profile.equals("stream-smoke") ? 2 : 15)) {
					break;
				}
			}
		}
		chats.forEach(chat -> cluster.stopAsync(chat.user(), chat.conversation()));
		chats.forEach(chat -> chat.stream().ended.orTimeout(30, TimeUnit.SECONDS).exceptionally(ex -> -1).join());
		Map<String, Object> warm = new LinkedHashMap<>();
		warm.put("seconds", Latencies.round((System.nanoTime() - began) / 1e9));
		warm.put("last_compiler_share_of_a_core", Latencies.round(compilerShare));
		return warm;
	}

	private String chat(String conversation, String runId, int maxTokens) {
		return "{\"model\":\"bench\",\"stream\":true,\"max_tokens\":" + maxTokens + ",\"conversation_id\":\""
				+ conversation + "\",\"run_id\":\"" + runId
				+ "\",\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}";
	}

	/**
	 * A chat with its client-chosen run id (a stop can name the run before it exists).
	 */
	private record Chat(String user, String conversation, String runId, StreamClients.Stream stream) {
	}

	private Chat startChat(BenchCluster cluster, StreamClients clients, int i, int maxTokens, boolean watched) {
		String user = "stream-u" + (i % 50);
		String conversation = "s-" + UUID.randomUUID().toString().substring(0, 12);
		String runId = "r-" + UUID.randomUUID().toString().substring(0, 12);
		StreamClients.Stream stream = clients.open(cluster.gatewayUrl() + "/v1/chat/completions", cluster.token(user),
				chat(conversation, runId, maxTokens));
		if (watched) {
			// once the conversation exists (a socket on a conversation without history is
			// refused): it joins the running answer with a snapshot, as a reloaded page
			// does; closed when the chat ends, so the sockets of one step do not
			// outlive it
			stream.firstToken.thenCompose(first -> clients.watch(
					cluster.gatewayUrl().replace("http", "ws") + "/v1/conversation/" + conversation + "/stream",
					cluster.token(user)))
				.thenAcceptBoth(stream.ended, (socket, status) -> socket.abort());
		}
		return new Chat(user, conversation, runId, stream);
	}

	private Map<String, Object> step(BenchCluster cluster, StreamClients clients, int k) throws Exception {
		int maxTokens = speed * (seconds + 60);
		Map<String, Chat> chats = new ConcurrentHashMap<>();
		Latencies starts = new Latencies();
		Latencies startDispatch = new Latencies();
		Latencies startDelivery = new Latencies();
		long modelFirstTokenNanos = TimeUnit.MILLISECONDS.toNanos((long) Math.max(1, 1000 / speed) * burst);
		clients.errors.clear();
		for (int i = 0; i < k; i++) {
			Chat chat = startChat(cluster, clients, i, maxTokens, random.nextDouble() < watchedShare);
			chats.put(chat.conversation(), chat);
			if (i % 100 == 99) {
				BenchCluster.sleep(Duration.ofMillis(100));
			}
		}
		for (Chat chat : chats.values()) {
			chat.stream().firstToken.orTimeout(60, TimeUnit.SECONDS).exceptionally(ex -> 0L).join();
		}
		BenchCluster.sleep(Duration.ofSeconds(2));
		// measured window: tokens, CPU, delivery latency; stops (each replaced by a new
		// chat) spread over it
		Latencies stops = new Latencies();
		StopStages stopStages = new StopStages();
		Map<Integer, AtomicLong> stopStatuses = new ConcurrentHashMap<>();
		clients.delivery = new Latencies();
		clients.tokens.set(0);
		clients.watcherTokens.set(0);
		clients.recording = true;
		// the nodes' view of the step's stops: the gateway's own time; on the workers,
		// the
		// gateway's request -> accepted by the listener (delivered), -> generation ended
		// (cancelled), -> outcome recorded (unregistered)
		long interval = TimeUnit.SECONDS.toNanos(1) / Math.max(1, stopsPerSecond);
		FloorProbe floors = new FloorProbe(cluster, interval);
		Map<String, Map<Double, Double>> stagesBefore = stages(cluster);
		Map<String, Map<Double, Double>> startsBefore = startStages(cluster);
		Map<String, Map<Double, Double>> lagBefore = schedulerLag(cluster);
		AutoCloseable profiling = Profiler.around("stream-k" + k, cluster.nodePids());
		OwnPauses ownPauses = new OwnPauses();
		Map<String, Long> cpuBefore = CpuTime.sample(cluster.pids());
		long began = System.nanoTime();
		long end = began + TimeUnit.SECONDS.toNanos(seconds);
		// the stop's floors, probed between the stops
		floors.start(began);
		List<CompletableFuture<?>> pending = new ArrayList<>();
		int replacement = k;
		for (long next = began; next < end; next += interval) {
			long wait = next - System.nanoTime();
			if (wait > 0) {
				TimeUnit.NANOSECONDS.sleep(wait);
			}
			Chat victim = chats.values()
				.stream()
				.skip(random.nextInt(Math.max(1, chats.size())))
				.findFirst()
				.orElse(null);
			if (victim == null) {
				continue;
			}
			chats.remove(victim.conversation());
			long sent = System.nanoTime();
			long sentAt = StopStages.nowEpochNanos();
			pending.add(cluster.stopForAnswerAsync(victim.user(), victim.conversation()).thenAccept(answer -> {
				stops.add(System.nanoTime() - sent);
				stopStages.add(sentAt, StopStages.nowEpochNanos(), answer.body());
				stopStatuses.computeIfAbsent(answer.status(), s -> new AtomicLong()).incrementAndGet();
			}));
			Chat fresh = startChat(cluster, clients, replacement++, maxTokens, random.nextDouble() < watchedShare);
			chats.put(fresh.conversation(), fresh);
			pending.add(fresh.stream().firstToken.thenAccept(first -> {
				StreamClients.Stream stream = fresh.stream();
				starts.add(Math.max(0, first - stream.sentNanos - modelFirstTokenNanos));
				if (stream.firstEmittedMicros >= 0) {
					// the same start in two parts, on the clock tokens' clock: request →
					// the model's first token (minus its own delay), and that token →
					// the client
					startDispatch
						.add(Math.max(0, TimeUnit.MICROSECONDS.toNanos(stream.firstEmittedMicros - stream.sentMicros)
								- modelFirstTokenNanos));
					startDelivery.add(TimeUnit.MICROSECONDS
						.toNanos(Math.max(0, stream.firstArrivedMicros - stream.firstEmittedMicros)));
				}
			}));
		}
		long remaining = end - System.nanoTime();
		if (remaining > 0) {
			TimeUnit.NANOSECONDS.sleep(remaining);
		}
		floors.close();
		double elapsed = (System.nanoTime() - began) / 1e9;
		Map<String, Long> cpu = CpuTime.delta(cpuBefore, CpuTime.sample(cluster.pids()));
		profiling.close();
		ownPauses.close();
		clients.recording = false;
		long delivered = clients.tokens.get();
		long watcherDeliveries = clients.watcherTokens.get();
		CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
			.orTimeout(30, TimeUnit.SECONDS)
			.exceptionally(ex -> null)
			.join();
		Map<String, Object> propagation = stagesSince(stagesBefore, cluster);
		Map<String, Object> startOnWorkers = since(startsBefore, startStages(cluster));
		Map<String, Object> lag = since(lagBefore, schedulerLag(cluster));

		Map<String, Object> step = new LinkedHashMap<>();
		step.put("k", k);
		double tokensPerSecond = delivered / elapsed;
		step.put("tokens_per_s", Math.round(tokensPerSecond));
		step.put("offered_tokens_per_s", (long) k * speed);
		double share = 100.0 * tokensPerSecond / ((double) k * speed);
		step.put("delivered_share_pct", Math.round(share));
		step.put("websocket_token_messages_per_s", Math.round(watcherDeliveries / elapsed));
		Map<String, Object> perToken = new LinkedHashMap<>();
		cpu.forEach((role, nanos) -> perToken.put(role, Latencies.round(nanos / 1000.0 / Math.max(1, delivered))));
		step.put("cpu_us_per_token", perToken);
		step.put("cpu_us_per_token_gateway_plus_workers",
				Latencies.round((cpu.get("gateway") + cpu.get("workers")) / 1000.0 / Math.max(1, delivered)));
		// the same without the nodes' fixed background (measured idle before the steps)
		double idleNanos = (idleCores.getOrDefault("gateway", 0.0) + idleCores.getOrDefault("workers", 0.0)) * 1e9
				* elapsed;
		step.put("cpu_us_per_token_gateway_plus_workers_above_idle", Latencies
			.round(Math.max(0, cpu.get("gateway") + cpu.get("workers") - idleNanos) / 1000.0 / Math.max(1, delivered)));
		step.put("cpu_cores_busy",
				Latencies.round(cpu.values().stream().mapToLong(Long::longValue).sum() / 1e9 / elapsed));
		step.put("delivery", clients.delivery.summary());
		step.put("stop", stops.summary());
		step.put("stop_statuses", stopStatuses);
		step.put("stop_on_nodes", propagation);
		step.put("stop_stages", stopStages.summary());
		// the stop beside its floors in the same window (ratios of p50 and of p99)
		step.put("stop_floors", floors.summary(stops));
		step.put("start_overhead", starts.summary());
		step.put("start_overhead_to_first_emit", startDispatch.summary());
		step.put("start_first_token_delivery", startDelivery.summary());
		step.put("start_on_workers", startOnWorkers);
		step.put("scheduler_lag", lag);
		step.put("load_generator_gc", ownPauses.summary());
		Map<Integer, Long> errors = new LinkedHashMap<>();
		clients.errors.forEach((status, count) -> errors.put(status, count.get()));
		stopStatuses.forEach((status, count) -> {
			if (status >= 500 || status < 0) {
				errors.merge(status, count.get(), Long::sum);
			}
		});
		step.put("errors", errors);
		// the simulated model's sleeps drift a little below the nominal speed: 80 %, not
		// 100 %
		step.put("saturated", share < 80 || clients.delivery.ms(0.99) > 1000);
		// end every chat of the step and wait for the streams to close
		chats.values().forEach(chat -> cluster.stopAsync(chat.user(), chat.conversation()));
		for (Chat chat : chats.values()) {
			chat.stream().ended.orTimeout(30, TimeUnit.SECONDS).exceptionally(ex -> -1).join();
		}
		return step;
	}

	/** The floor relay at the same K and speed, for the same window. */
	private Map<String, Object> floorStep(FloorRelay floor, StreamClients clients, int k) {
		List<StreamClients.Stream> streams = new ArrayList<>();
		for (int i = 0; i < k; i++) {
			streams.add(clients.open(floor.url("s" + i), null, null));
		}
		BenchCluster.sleep(Duration.ofMillis(500));
		floor.streams(k, TimeUnit.SECONDS.toNanos(1) / speed);
		BenchCluster.sleep(Duration.ofSeconds(2));
		clients.delivery = new Latencies();
		clients.tokens.set(0);
		clients.recording = true;
		long cpuBefore = floor.cpuNanos();
		long began = System.nanoTime();
		BenchCluster.sleep(Duration.ofSeconds(seconds));
		double elapsed = (System.nanoTime() - began) / 1e9;
		long cpu = floor.cpuNanos() - cpuBefore;
		clients.recording = false;
		long delivered = clients.tokens.get();
		floor.reset();
		streams.forEach(stream -> stream.ended.orTimeout(10, TimeUnit.SECONDS).exceptionally(ex -> -1).join());
		Map<String, Object> result = new LinkedHashMap<>();
		result.put("tokens_per_s", Math.round(delivered / elapsed));
		result.put("cpu_us_per_token", Latencies.round(cpu / 1000.0 / Math.max(1, delivered)));
		result.put("delivery", clients.delivery.summary());
		return result;
	}

	/**
	 * Chat starts at fixed offered rates (open loop), each a one-token streaming chat:
	 * achieved starts per second and request-to-first-token latency.
	 */
	private List<Map<String, Object>> startRates(BenchCluster cluster, StreamClients clients) {
		List<Integer> rates = parse(System.getProperty("stopline.bench.stream.start-rates",
				profile.equals("stream-smoke") ? "50" : "250,500,1000,2000"));
		results.put("chat_start_warm_up", warmUpStarts(cluster, clients, rates));
		List<Map<String, Object>> steps = new ArrayList<>();
		for (int rate : rates) {
			steps.add(startStep(cluster, clients, rate, "st-"));
		}
		return steps;
	}

	/**
	 * Unmeasured open-loop starts at each rate in turn (one second each), until the
	 * nodes' JIT compilers fall under 5 % of a core (at most
	 * {@code stopline.bench.stream.start-warm-up} seconds, 60 by default): the first runs
	 * of this profile spent a third of the nodes' CPU compiling the start path at rates
	 * the streaming warm-up never reached.
	 */
	private Map<String, Object> warmUpStarts(BenchCluster cluster, StreamClients clients, List<Integer> rates) {
		long budget = TimeUnit.SECONDS.toNanos(
				Integer.getInteger("stopline.bench.stream.start-warm-up", profile.equals("stream-smoke") ? 3 : 60));
		long began = System.nanoTime();
		double compilerShare = 1;
		int round = 0;
		while (System.nanoTime() - began < budget && compilerShare >= 0.05) {
			int rate = rates.get(round++ % rates.size());
			long compiler = CpuTime.compilers(cluster.nodePids().values());
			long at = System.nanoTime();
			startStep(cluster, clients, rate / 2, "sw-");
			compilerShare = (CpuTime.compilers(cluster.nodePids().values()) - compiler)
					/ (double) (System.nanoTime() - at);
		}
		Map<String, Object> warm = new LinkedHashMap<>();
		warm.put("seconds", Latencies.round((System.nanoTime() - began) / 1e9));
		warm.put("last_compiler_share_of_a_core", Latencies.round(compilerShare));
		return warm;
	}

	/** {@code rate} one-token chats a second for two seconds (open loop). */
	private Map<String, Object> startStep(BenchCluster cluster, StreamClients clients, int rate, String prefix) {
		Latencies firstToken = new Latencies();
		Latencies fromIntended = new Latencies();
		Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
		List<CompletableFuture<?>> pending = new ArrayList<>();
		int count = rate * 2;
		long interval = TimeUnit.SECONDS.toNanos(1) / rate;
		// the requests are made before the clock starts: the sending loop only sends
		String url = cluster.gatewayUrl() + "/v1/chat/completions";
		List<String[]> requests = new ArrayList<>(count);
		for (int i = 0; i < count; i++) {
			requests.add(new String[] { cluster.token("start-u" + (i % 50)),
					chat(prefix + UUID.randomUUID().toString().substring(0, 12),
							"r-" + UUID.randomUUID().toString().substring(0, 12), 1) });
		}
		long began = System.nanoTime();
		for (int i = 0; i < count; i++) {
			long intended = began + i * interval;
			long wait = intended - System.nanoTime();
			if (wait > 0) {
				java.util.concurrent.locks.LockSupport.parkNanos(wait);
			}
			StreamClients.Stream stream = clients.open(url, requests.get(i)[0], requests.get(i)[1]);
			pending.add(stream.firstToken.thenAccept(first -> {
				firstToken.add(first - stream.sentNanos);
				fromIntended.add(first - intended);
			}));
			pending.add(stream.ended
				.thenAccept(status -> statuses.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet()));
		}
		CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
			.orTimeout(60, TimeUnit.SECONDS)
			.exceptionally(ex -> null)
			.join();
		double seconds = (System.nanoTime() - began) / 1e9;
		Map<String, Object> step = new LinkedHashMap<>();
		step.put("offered_per_s", rate);
		step.put("achieved_per_s", Math.round(firstToken.size() / seconds));
		step.put("request_to_first_token", firstToken.summary());
		// open loop without coordinated omission: from when the request was due, so a
		// sender held back by a saturated machine still counts the wait
		step.put("due_to_first_token", fromIntended.summary());
		step.put("statuses", statuses);
		return step;
	}

	/**
	 * {@code pairs} sends at once, each stopped 0-200 ms after it was sent: statuses and
	 * stop latency.
	 */
	private Map<String, Object> burst(BenchCluster cluster, StreamClients clients) {
		Latencies stops = new Latencies();
		Map<Integer, AtomicLong> sendStatuses = new ConcurrentHashMap<>();
		Map<Integer, AtomicLong> stopStatuses = new ConcurrentHashMap<>();
		List<CompletableFuture<?>> pending = new ArrayList<>();
		Map<String, Map<Double, Double>> stagesBefore = stages(cluster);
		double[] httpBefore = cluster.gatewayTimer(HTTP_REQUESTS, STOP_URI);
		Map<String, Long> cpuBefore = CpuTime.sample(cluster.pids());
		Map<String, Double> compiledBefore = cluster.compilationMillis();
		long began = System.nanoTime();
		List<Chat> chats = new ArrayList<>();
		for (int i = 0; i < pairs; i++) {
			chats.add(startChat(cluster, clients, i, speed * 30, false));
		}
		java.util.concurrent.ScheduledExecutorService timer = java.util.concurrent.Executors
			.newSingleThreadScheduledExecutor();
		try {
			for (Chat chat : chats) {
				CompletableFuture<Void> done = new CompletableFuture<>();
				timer.schedule(() -> {
					long sent = System.nanoTime();
					// by run id: a stop that overtakes its send is still that run's stop
					// (issue #18's tombstone), not a 404 for an empty conversation
					cluster.stopRunAsync(chat.user(), chat.conversation(), chat.runId())
						.whenComplete((status, error) -> {
							stops.add(System.nanoTime() - sent);
							stopStatuses.computeIfAbsent(status == null ? -1 : status, s -> new AtomicLong())
								.incrementAndGet();
							done.complete(null);
						});
				}, random.nextInt(200), TimeUnit.MILLISECONDS);
				pending.add(done);
				pending.add(chat.stream().ended.thenAccept(
						status -> sendStatuses.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet()));
			}
			CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
				.orTimeout(120, TimeUnit.SECONDS)
				.exceptionally(ex -> null)
				.join();
		}
		finally {
			timer.shutdownNow();
		}
		Map<String, Object> result = new LinkedHashMap<>();
		result.put("pairs", pairs);
		result.put("send_statuses", sendStatuses);
		result.put("stop_statuses", stopStatuses);
		result.put("stop", stops.summary());
		// how busy the machine was while the burst ran: a burst beyond what the cores
		// carry
		// queues every stage, which no per-stage figure shows
		double seconds = (System.nanoTime() - began) / 1e9;
		Map<String, Object> cores = new LinkedHashMap<>();
		CpuTime.delta(cpuBefore, CpuTime.sample(cluster.pids()))
			.forEach((role, nanos) -> cores.put(role, Latencies.round(nanos / 1e9 / seconds)));
		result.put("seconds", Latencies.round(seconds));
		result.put("cores_busy", cores);
		// the JIT's share: a burst whose paths are not compiled yet spends cores on it
		// (jvm.compilation.time is the compilations' elapsed time summed over the
		// compiler threads: an upper bound on the cores they took)
		Map<String, Object> compiling = new LinkedHashMap<>();
		cluster.compilationMillis()
			.forEach((role, millis) -> compiling.put(role,
					Latencies.round((millis - compiledBefore.get(role)) / 1000 / seconds)));
		result.put("compiler_seconds_per_second", compiling);
		result.put("stop_on_nodes", stagesSince(stagesBefore, cluster));
		// Tomcat's own view (the request's filter chain to its response): what the stop's
		// figure holds beyond it is the connection, the request's wait for a thread, or
		// the client
		double[] httpAfter = cluster.gatewayTimer(HTTP_REQUESTS, STOP_URI);
		double count = httpAfter[0] - httpBefore[0];
		result.put("stop_mean_ms", Latencies.round(stops.meanMs()));
		result.put("gateway_http_stop_mean_ms",
				count <= 0 ? null : Latencies.round((httpAfter[1] - httpBefore[1]) * 1000 / count));
		return result;
	}

	/**
	 * A run's start as the workers saw it ({@code stopline.run.start}): the gateway's
	 * request to the job taken off the queue, to the claim, to the model's first token.
	 */
	private static Map<String, Map<Double, Double>> startStages(BenchCluster cluster) {
		return workerStages(cluster, RUN_START, "taken", "claimed", "first_token");
	}

	/**
	 * How late the nodes' virtual threads woke ({@code stopline.scheduler.lag}, 4 probes
	 * a second per node): the wait for a carrier that each hand-off of a start, a token
	 * or a stop can meet.
	 */
	private static Map<String, Map<Double, Double>> schedulerLag(BenchCluster cluster) {
		Map<String, Map<Double, Double>> lag = new LinkedHashMap<>();
		lag.put("gateway", cluster.gatewayHistogram(SCHEDULER_LAG, ""));
		lag.put("workers", cluster.workerHistogram(SCHEDULER_LAG, ""));
		return lag;
	}

	/** Each stage's quantiles over the stops since {@code before} was read. */
	private static Map<String, Object> stagesSince(Map<String, Map<Double, Double>> before, BenchCluster cluster) {
		return since(before, stages(cluster));
	}

	/** Each stage's quantiles between two readings of its histograms. */
	private static Map<String, Object> since(Map<String, Map<Double, Double>> before,
			Map<String, Map<Double, Double>> after) {
		Map<String, Object> quantiles = new LinkedHashMap<>();
		before.forEach((stage, earlier) -> quantiles.put(stage,
				StopBenchmark.quantiles(StopBenchmark.delta(earlier, after.get(stage)))));
		return quantiles;
	}

	/**
	 * The stop's stages as the nodes saw them: the gateway's own request-to-answer time
	 * (from the stop service's start, so the client's figure minus it is the wait for a
	 * connection and a request thread, and the answer's way back), and the workers'
	 * propagation histograms.
	 */
	private static Map<String, Map<Double, Double>> stages(BenchCluster cluster) {
		Map<String, Map<Double, Double>> stages = new LinkedHashMap<>();
		stages.put("gateway", cluster.gatewayHistogram(GATEWAY_STOP, "endpoint=\"single\""));
		stages.putAll(workerStages(cluster, PROPAGATION, "delivered", "cancelled", "unregistered"));
		return stages;
	}

	/** The workers' histogram {@code name}, one per {@code stage} label. */
	private static Map<String, Map<Double, Double>> workerStages(BenchCluster cluster, String name, String... stages) {
		Map<String, Map<Double, Double>> histograms = new LinkedHashMap<>();
		for (String stage : stages) {
			histograms.put(stage, cluster.workerHistogram(name, "stage=\"" + stage + "\""));
		}
		return histograms;
	}

}
