package io.stopline.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.stopline.protocol.Json;
import io.stopline.protocol.StartRun;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.protocol.HistoryMessage;
import io.stopline.core.schema.Keys;
import io.stopline.core.run.RedisConversationRegistry;
import io.stopline.core.run.RunRecord;
import io.stopline.testing.NodeProcess;
import io.stopline.testing.RedisClients;
import io.stopline.testing.TestRedis;

import org.springframework.data.redis.connection.stream.StreamRecords;

/**
 * The cluster under test: a {@code redis-server}, one gateway and N workers, each a
 * process from the built jars, plus the benchmark's own clients. Background runs are
 * queued straight into Redis (as a gateway would) with a reply address nobody listens on,
 * so the gateway under test holds no streams for them.
 */
final class BenchCluster implements AutoCloseable {

	static final String SECRET = "benchmark-secret-of-at-least-32-bytes-long";

	static final String SINK = "bench-sink";

	private final TestRedis redis;

	private final RedisClients clients;

	private final ConversationRegistry registry;

	private final Path gatewayJar;

	private final Path workerJar;

	private final Map<String, String> workerProperties;

	private final Path logs = Path.of("target", "bench-logs");

	private final List<NodeProcess> workers = new ArrayList<>();

	private NodeProcess gateway;

	private int gatewayManagementPort;

	private Api api;

	private AsyncApi load;

	/** Where stops go: the control port when the gateway has one, else the API port. */
	private String stopUrl;

	private Api stopApi;

	private AsyncApi stopLoad;

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

	private final Map<String, String> tokens = new ConcurrentHashMap<>();

	/** Runs known to be running, ready to be stopped: user and conversation. */
	final ConcurrentLinkedDeque<String[]> running = new ConcurrentLinkedDeque<>();

	BenchCluster(Path gatewayJar, Path workerJar, Map<String, String> workerProperties) {
		this.gatewayJar = gatewayJar;
		this.workerJar = workerJar;
		this.workerProperties = workerProperties;
		this.redis = TestRedis.dedicatedProcess();
		this.clients = new RedisClients(redis);
		this.registry = new RedisConversationRegistry(clients.template());
	}

	RedisClients clients() {
		return clients;
	}

	ConversationRegistry registry() {
		return registry;
	}

	String redisUrl() {
		return redis.url();
	}

	HttpClient http() {
		return http;
	}

	void startGateway() {
		Map<String, String> properties = new LinkedHashMap<>();
		properties.put("server.port", "0");
		properties.put("spring.data.redis.url", redis.url());
		properties.put("stopline.auth.jwt-secret", SECRET);
		properties.put("spring.profiles.active", "dev");
		// actuator on a port of its own, as by default, but a free one known here (its
		// metrics are read)
		gatewayManagementPort = freePort();
		properties.put("management.server.port", String.valueOf(gatewayManagementPort));
		properties.put("logging.level.io.stopline", "WARN");
		// the stop path's speed is measured, not the abuse limits
		properties.put("stopline.gateway.max-active-runs-per-user", "1000000");
		properties.put("stopline.gateway.stop-rate-limit.permits", "100000000");
		// the listing phase reserves runs without jobs (no worker runs then); the sweep
		// of
		// such runs (10 s) ended its user's ten runs mid-phase once filling 100,000 took
		// longer than that on a slow machine
		properties.put("stopline.queue.without-job-after", "1h");
		// stops go to the gateway's control port (its own connector and platform
		// threads),
		// as a load balancer would route them; -Dstopline.bench.control-port=false sends
		// them to the API port (and measures jars that have no control port)
		int controlPort = Boolean.parseBoolean(System.getProperty("stopline.bench.control-port", "true")) ? freePort()
				: -1;
		if (controlPort > 0) {
			properties.put("stopline.gateway.connections.control-port", Integer.toString(controlPort));
		}
		gateway = NodeProcess.start("gateway", gatewayJar, jvmOptions("gateway"), properties, Map.of(),
				"Tomcat started on port", logs);
		api = new Api(gatewayUrl());
		load = new AsyncApi(gatewayUrl(), 512);
		stopUrl = controlPort > 0 ? "http://127.0.0.1:" + controlPort : gatewayUrl();
		stopApi = controlPort > 0 ? new Api(stopUrl) : api;
		stopLoad = controlPort > 0 ? new AsyncApi(stopUrl, 512) : load;
	}

	private static int freePort() {
		try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	void startWorkers(int count) {
		startWorkers(count, Map.of());
	}

	/** As {@link #startWorkers(int)}, with some worker properties changed. */
	void startWorkers(int count, Map<String, String> overrides) {
		for (int i = 0; i < count; i++) {
			String id = "bench-worker-" + workers.size() + "-" + UUID.randomUUID().toString().substring(0, 4);
			Map<String, String> properties = new LinkedHashMap<>(workerProperties);
			properties.putAll(overrides);
			properties.put("server.port", "0");
			properties.put("spring.data.redis.url", redis.url());
			properties.put("stopline.worker.id", id);
			properties.put("logging.level.io.stopline", "WARN");
			workers.add(NodeProcess.start(id, workerJar, jvmOptions(id), properties, Map.of(), "Tomcat started on port",
					logs));
		}
		awaitWorkersReady();
	}

	/**
	 * With -Dstopline.bench.jfr=true every node records a JFR profile into target/bench/
	 * (read with 'jfr').
	 */
	private static List<String> jvmOptions(String node) {
		// a fixed heap touched at start: a heap that grows (or gives memory back and
		// grows again) takes page faults inside the collector's pauses, and on this
		// machine half of the nodes' pause time was the kernel's (GC logs with gc+cpu:
		// Sys as large as User); with the pages touched first it was a twentieth
		List<String> options = new ArrayList<>(
				List.of("-Xms1g", "-Xmx1g", "-Xmn300m", "-XX:+AlwaysPreTouch", "-XX:+UseParallelGC"));
		// the control plane's threads above the streams' (ControlThreads), as ./stopline
		// run starts the nodes when it may; -Dstopline.bench.control-priority=false: off
		if (Boolean.parseBoolean(System.getProperty("stopline.bench.control-priority", "true"))
				&& "root".equals(System.getProperty("user.name"))) {
			options.add("-XX:ThreadPriorityPolicy=1");
		}
		// -Dstopline.bench.node-options="-XX:+PrintCompilation ...": more JVM options for
		// every node
		String extra = System.getProperty("stopline.bench.node-options", "");
		if (!extra.isBlank()) {
			List<String> more = List.of(extra.trim().split("\\s+"));
			java.util.function.Predicate<String> collector = option -> option.matches("-XX:\\+Use\\w+GC");
			if (more.stream().anyMatch(collector)) {
				// another collector named: the JVM refuses two
				options.removeIf(collector);
			}
			options.addAll(more);
		}
		if (Boolean.getBoolean("stopline.bench.jfr")) {
			options.add("-XX:StartFlightRecording=settings=profile,filename="
					+ Path.of("target", "bench", node + ".jfr").toAbsolutePath());
		}
		if (System.getProperty("stopline.bench.profiler") != null) {
			// async-profiler is attached later, around the phases it profiles
			options.add("-XX:+EnableDynamicAgentLoading");
		}
		return options;
	}

	void stopWorkers() {
		workers.forEach(NodeProcess::kill);
		workers.clear();
	}

	List<NodeProcess> workers() {
		return workers;
	}

	String gatewayUrl() {
		return "http://127.0.0.1:" + gateway.httpPort();
	}

	String token(String user) {
		return tokens.computeIfAbsent(user, u -> {
			HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(gatewayUrl() + "/v1/auth/dev-token"))
				.header("Content-Type", "application/json")
				.POST(HttpRequest.BodyPublishers.ofString("{\"user\":\"" + u + "\"}"))
				.build());
			Matcher token = Pattern.compile("\"token\":\"([^\"]+)\"").matcher(response.body());
			if (!token.find()) {
				throw new IllegalStateException("no token: " + response.body());
			}
			return token.group(1);
		});
	}

	/**
	 * The process ids by role (the workers' summed under one name), for {@link CpuTime}.
	 */
	Map<String, List<Long>> pids() {
		Map<String, List<Long>> pids = new LinkedHashMap<>();
		pids.put("gateway", List.of(gateway.pid()));
		pids.put("workers", workers.stream().map(NodeProcess::pid).toList());
		pids.put("redis", List.of(redis.pid()));
		pids.put("load_generator", List.of(ProcessHandle.current().pid()));
		return pids;
	}

	/** Gateway and worker process ids by node name, for {@link Profiler}. */
	Map<String, Long> nodePids() {
		Map<String, Long> pids = new LinkedHashMap<>();
		pids.put("gateway", gateway.pid());
		workers.forEach(worker -> pids.put(worker.name(), worker.pid()));
		return pids;
	}

	/** The measured requests' client (see {@link Api}). */
	Api api() {
		return api;
	}

	/** The open-loop load's client (see {@link AsyncApi}). */
	AsyncApi load() {
		return load;
	}

	/** As {@link #stop}, answered later: its status. */
	java.util.concurrent.CompletableFuture<Integer> stopAsync(String user, String conversation) {
		return stopLoad.post(token(user), "/v1/conversation/" + conversation + "/stop");
	}

	/**
	 * The listing of the token's user through the stops' client and port (their floor):
	 * its status.
	 */
	java.util.concurrent.CompletableFuture<Integer> listingAsync(String token) {
		return stopLoad.get(token, "/v1/conversations/active");
	}

	/** As {@link #stopAsync}, with the answer's body (a confirmed stop's receipt). */
	java.util.concurrent.CompletableFuture<Api.Answer> stopForAnswerAsync(String user, String conversation) {
		return stopLoad.postForAnswer(token(user), "/v1/conversation/" + conversation + "/stop");
	}

	/**
	 * Stops one run ({@code {"run_id": …}}): a stop that overtakes its own send still
	 * lands (the gateway keeps a tombstone the reservation finds).
	 */
	java.util.concurrent.CompletableFuture<Integer> stopRunAsync(String user, String conversation, String runId) {
		return stopLoad.post(token(user), "/v1/conversation/" + conversation + "/stop",
				"{\"run_id\":\"" + runId + "\"}");
	}

	/** Stops a conversation through the gateway with its owner's token. */
	Api.Answer stop(String user, String conversation) {
		return stopApi.post(token(user), "/v1/conversation/" + conversation + "/stop");
	}

	HttpRequest stopRequest(String user, String conversation) {
		return HttpRequest.newBuilder(URI.create(stopUrl + "/v1/conversation/" + conversation + "/stop"))
			.header("Authorization", "Bearer " + token(user))
			.POST(HttpRequest.BodyPublishers.noBody())
			.build();
	}

	HttpRequest get(String user, String path) {
		return HttpRequest.newBuilder(URI.create(gatewayUrl() + path))
			.header("Authorization", "Bearer " + token(user))
			.GET()
			.build();
	}

	HttpResponse<String> send(HttpRequest request) {
		try {
			return http.send(request, HttpResponse.BodyHandlers.ofString());
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * Queues runs as a gateway would (reserve, then XADD), for {@code users} users, and
	 * waits until all run.
	 */
	void startRuns(int count, int users, String prefix) {
		Semaphore inFlight = new Semaphore(64);
		List<String[]> started = new ArrayList<>();
		try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
			for (int i = 0; i < count; i++) {
				String user = "bench-u" + (i % users);
				String conversation = prefix + "-" + i;
				started.add(new String[] { user, conversation });
				inFlight.acquireUninterruptibly();
				pool.execute(() -> {
					try {
						queue(user, conversation, 100_000);
					}
					finally {
						inFlight.release();
					}
				});
			}
		}
		awaitRunning(started);
	}

	void queue(String user, String conversation, int maxTokens) {
		Instant now = Instant.now();
		RunRecord run = RunRecord.queued("run-" + UUID.randomUUID(), user, conversation, "bench", SINK, now);
		registry.reserve(run, HistoryMessage.user("go", run.runId(), now));
		StartRun job = new StartRun(run.runId(), user, conversation, "bench",
				List.of(new StartRun.ChatMessage("user", "go")), maxTokens, SINK, now, null);
		clients.template()
			.opsForStream()
			.add(StreamRecords.string(Map.of("job", Json.write(job))).withStreamKey(Keys.JOBS));
	}

	private void awaitRunning(List<String[]> started) {
		long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
		List<String[]> pending = new ArrayList<>(started);
		while (!pending.isEmpty()) {
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException(pending.size() + " runs never started");
			}
			List<String[]> still = new ArrayList<>();
			for (String[] run : pending) {
				var record = registry.find(run[0], run[1]);
				if (record.isPresent() && record.get().state() == io.stopline.protocol.RunState.RUNNING) {
					running.add(run);
				}
				else {
					still.add(run);
				}
			}
			pending = still;
			if (!pending.isEmpty()) {
				sleep(Duration.ofMillis(200));
			}
		}
	}

	private void awaitWorkersReady() {
		for (NodeProcess worker : workers) {
			long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
			while (!worker.logContains("Tomcat started on port")) {
				if (System.nanoTime() > deadline) {
					throw new IllegalStateException(worker.name() + " not ready");
				}
				sleep(Duration.ofMillis(100));
			}
			String url = "http://127.0.0.1:" + worker.httpPort() + "/actuator/health/readiness";
			while (!send(HttpRequest.newBuilder(URI.create(url)).GET().build()).body().contains("\"UP\"")) {
				if (System.nanoTime() > deadline) {
					throw new IllegalStateException(worker.name() + " not ready");
				}
				sleep(Duration.ofMillis(100));
			}
		}
	}

	/**
	 * Sum of a Prometheus histogram's buckets over all workers: le -> cumulative count.
	 */
	Map<Double, Double> workerHistogram(String name, String label) {
		return histogram(workers.stream().map(NodeProcess::httpPort).toList(), name, label);
	}

	/** The gateway's Prometheus histogram: le -> cumulative count. */
	Map<Double, Double> gatewayHistogram(String name, String label) {
		return histogram(List.of(gatewayManagementPort), name, label);
	}

	/**
	 * The gateway's Prometheus timer {@code name} over the series whose labels contain
	 * {@code label}: {count, sum in seconds}.
	 */
	double[] gatewayTimer(String name, String label) {
		double[] countAndSum = new double[2];
		Matcher m = Pattern.compile("^" + name + "_(count|sum)\\{(.*)\\} ([0-9.eE+-]+)$", Pattern.MULTILINE)
			.matcher(prometheus(gatewayManagementPort));
		while (m.find()) {
			if (m.group(2).contains(label)) {
				countAndSum[m.group(1).equals("count") ? 0 : 1] += Double.parseDouble(m.group(3));
			}
		}
		return countAndSum;
	}

	/**
	 * The JIT compilers' time so far ({@code jvm.compilation.time}, ms): the gateway's
	 * and the workers' together.
	 */
	Map<String, Double> compilationMillis() {
		Map<String, Double> millis = new LinkedHashMap<>();
		millis.put("gateway", counter(gatewayManagementPort, "jvm_compilation_time_ms_total"));
		millis.put("workers",
				workers.stream()
					.mapToDouble(worker -> counter(worker.httpPort(), "jvm_compilation_time_ms_total"))
					.sum());
		return millis;
	}

	/** A Prometheus counter on {@code port}, summed over its series. */
	private double counter(int port, String name) {
		Matcher m = Pattern.compile("^" + name + "(?:\\{[^}]*\\})? ([0-9.eE+-]+)$", Pattern.MULTILINE)
			.matcher(prometheus(port));
		double sum = 0;
		while (m.find()) {
			sum += Double.parseDouble(m.group(1));
		}
		return sum;
	}

	/** What a node's Prometheus endpoint on {@code port} reports now. */
	private String prometheus(int port) {
		return send(
				HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/prometheus")).GET().build())
			.body();
	}

	private Map<Double, Double> histogram(List<Integer> ports, String name, String label) {
		Map<Double, Double> buckets = new java.util.TreeMap<>();
		Pattern line = Pattern.compile("^" + name + "_bucket\\{([^}]*)\\} ([0-9.eE+-]+)$", Pattern.MULTILINE);
		Pattern le = Pattern.compile("(?:^|,)le=\"([^\"]+)\"");
		for (int port : ports) {
			Matcher m = line.matcher(prometheus(port));
			while (m.find()) {
				if (!m.group(1).contains(label)) {
					continue;
				}
				Matcher bound = le.matcher(m.group(1));
				if (bound.find()) {
					double upper = bound.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY
							: Double.parseDouble(bound.group(1));
					buckets.merge(upper, Double.parseDouble(m.group(2)), Double::sum);
				}
			}
		}
		return buckets;
	}

	long usedMemory() {
		java.util.Properties info = clients.template()
			.execute((org.springframework.data.redis.core.RedisCallback<java.util.Properties>) connection -> connection
				.serverCommands()
				.info("memory"));
		return Long.parseLong(info.getProperty("used_memory").trim());
	}

	/**
	 * {@code INFO commandstats}: per command, how many calls and how many microseconds of
	 * Redis's time so far.
	 */
	Map<String, long[]> commandStats() {
		java.util.Properties info = clients.template()
			.execute((org.springframework.data.redis.core.RedisCallback<java.util.Properties>) connection -> connection
				.serverCommands()
				.info("commandstats"));
		Map<String, long[]> stats = new java.util.TreeMap<>();
		Pattern fields = Pattern.compile("calls=(\\d+),usec=(\\d+)");
		info.forEach((key, value) -> {
			Matcher m = fields.matcher(value.toString());
			if (key.toString().startsWith("cmdstat_") && m.find()) {
				stats.put(key.toString().substring("cmdstat_".length()),
						new long[] { Long.parseLong(m.group(1)), Long.parseLong(m.group(2)) });
			}
		});
		return stats;
	}

	static void sleep(Duration duration) {
		try {
			Thread.sleep(duration);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * SIGTERM first, so each node shuts down cleanly (and writes its JFR recording), then
	 * SIGKILL.
	 */
	@Override
	public void close() {
		List<NodeProcess> nodes = new ArrayList<>(workers);
		if (gateway != null) {
			nodes.add(gateway);
		}
		nodes.forEach(NodeProcess::terminate);
		for (NodeProcess node : nodes) {
			try {
				node.awaitExit(Duration.ofSeconds(30));
			}
			catch (AssertionError ex) {
				node.close();
			}
		}
		if (api != null) {
			api.close();
		}
		if (load != null) {
			load.close();
		}
		if (stopApi != null && stopApi != api) {
			stopApi.close();
		}
		if (stopLoad != null && stopLoad != load) {
			stopLoad.close();
		}
		clients.close();
		redis.close();
	}

}
