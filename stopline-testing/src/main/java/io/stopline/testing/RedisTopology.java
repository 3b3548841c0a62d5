package io.stopline.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

/**
 * Real multi-node Redis set-ups from {@code redis-server} processes on free ports: a
 * master with a replica watched by three sentinels ({@code redis-server --sentinel}, the
 * same binary as Debian's {@code redis-sentinel}), or a Redis Cluster of three masters
 * with a replica each ({@code redis-cli --cluster create}). For failover tests:
 * {@code SENTINEL FAILOVER}, {@code CLUSTER FAILOVER}.
 */
public final class RedisTopology implements AutoCloseable {

	public static final String MASTER_NAME = "stopline";

	private static final Duration BOUND = Duration.ofSeconds(60);

	private final List<Process> processes = new ArrayList<>();

	private final List<Integer> dataPorts = new ArrayList<>();

	private final List<Integer> sentinelPorts = new ArrayList<>();

	private final Map<Integer, Process> dataProcesses = new LinkedHashMap<>();

	private final Path dir;

	private RedisTopology() throws IOException {
		this.dir = Files.createTempDirectory("stopline-topology-");
	}

	/** A master, one replica and three sentinels (quorum 2, down after 1 s). */
	public static RedisTopology sentinel() {
		RedisTopology topology = create();
		try {
			int master = TestRedis.freePort();
			topology.server(master);
			int replica = TestRedis.freePort();
			topology.server(replica, "--replicaof", "127.0.0.1", Integer.toString(master));
			topology.await(() -> cli(replica, "INFO", "replication").contains("master_link_status:up"),
					"replica in sync");
			for (int i = 0; i < 3; i++) {
				int port = TestRedis.freePort();
				Path conf = topology.dir.resolve("sentinel-" + port + ".conf");
				Files.writeString(conf,
						String.join("\n", "port " + port, "bind 127.0.0.1", "dir " + topology.dir,
								"sentinel monitor " + MASTER_NAME + " 127.0.0.1 " + master + " 2",
								"sentinel down-after-milliseconds " + MASTER_NAME + " 1000",
								"sentinel failover-timeout " + MASTER_NAME + " 10000",
								"sentinel parallel-syncs " + MASTER_NAME + " 1", ""));
				topology.start("sentinel-" + port, List.of(TestRedis.redisServer(), conf.toString(), "--sentinel"));
				topology.sentinelPorts.add(port);
				topology.awaitPing(port);
			}
			for (int port : topology.sentinelPorts) {
				topology.await(() -> cli(port, "SENTINEL", "replicas", MASTER_NAME).contains("127.0.0.1"),
						"sentinel " + port + " knows the replica");
				// each sentinel has found the two others (clients check this list)
				topology.await(() -> cli(port, "SENTINEL", "sentinels", MASTER_NAME).lines()
					.filter("name"::equals)
					.count() >= 2, "sentinel " + port + " knows the others");
			}
			topology.printPorts("sentinel");
			return topology;
		}
		catch (IOException | RuntimeException ex) {
			topology.close();
			throw new IllegalStateException("could not start the sentinel set-up", ex);
		}
	}

	/** Three masters with a replica each, all slots covered. */
	public static RedisTopology cluster() {
		RedisTopology topology = create();
		try {
			List<String> nodes = new ArrayList<>();
			for (int i = 0; i < 6; i++) {
				int port = TestRedis.freePort();
				topology.server(port, "--cluster-enabled", "yes", "--cluster-config-file",
						topology.dir.resolve("nodes-" + port + ".conf").toString(), "--cluster-node-timeout", "2000");
				nodes.add("127.0.0.1:" + port);
			}
			List<String> create = new ArrayList<>(List.of(redisCli(), "--cluster", "create"));
			create.addAll(nodes);
			create.addAll(List.of("--cluster-replicas", "1", "--cluster-yes"));
			run(create);
			for (int port : topology.dataPorts) {
				topology.await(() -> cli(port, "CLUSTER", "INFO").contains("cluster_state:ok"),
						"cluster ok on " + port);
			}
			// replicas in sync before anyone relies on them (a failover of an unsynced
			// replica loses data)
			for (int port : topology.dataPorts) {
				topology.await(() -> {
					String replication = cli(port, "INFO", "replication");
					return replication.contains("role:master") || replication.contains("master_link_status:up");
				}, "replica " + port + " in sync");
			}
			topology.printPorts("cluster");
			return topology;
		}
		catch (IOException | RuntimeException ex) {
			topology.close();
			throw new IllegalStateException("could not start the cluster", ex);
		}
	}

	/**
	 * Which ports this set-up took, so a run of many test classes shows whether one
	 * reused a port another left behind.
	 */
	private void printPorts(String kind) {
		System.out.printf("[redis-ports] %s topology: data %s, sentinels %s (%s)%n", kind, dataPorts, sentinelPorts,
				dir);
	}

	/** The ports of the sentinels (Sentinel set-up). */
	public List<Integer> sentinelPorts() {
		return List.copyOf(sentinelPorts);
	}

	/** Spring properties that point a node at this set-up. */
	public Map<String, String> springProperties() {
		Map<String, String> properties = new LinkedHashMap<>();
		if (!sentinelPorts.isEmpty()) {
			properties.put("spring.data.redis.sentinel.master", MASTER_NAME);
			properties.put("spring.data.redis.sentinel.nodes",
					sentinelPorts.stream().map(port -> "127.0.0.1:" + port).collect(Collectors.joining(",")));
		}
		else {
			properties.put("spring.data.redis.cluster.nodes",
					dataPorts.stream().map(port -> "127.0.0.1:" + port).collect(Collectors.joining(",")));
		}
		return properties;
	}

	/** The port of the current master (Sentinel set-up). */
	public int masterPort() {
		String[] answer = cli(sentinelPorts.get(0), "SENTINEL", "get-master-addr-by-name", MASTER_NAME).strip()
			.split("\\s+");
		return Integer.parseInt(answer[answer.length - 1]);
	}

	/**
	 * {@code SENTINEL FAILOVER}: promotes the replica; returns once the sentinels name
	 * the new master.
	 */
	public int sentinelFailover() {
		int old = masterPort();
		cli(sentinelPorts.get(0), "SENTINEL", "FAILOVER", MASTER_NAME);
		await(() -> masterPort() != old, "a new master");
		int promoted = masterPort();
		await(() -> cli(promoted, "ROLE").startsWith("master"), "the new master took the role");
		return promoted;
	}

	/**
	 * {@code CLUSTER FAILOVER} on every replica: each shard's replica becomes its master.
	 * Returns once every slot is served again.
	 */
	public void clusterFailover() {
		List<Integer> replicas = dataPorts.stream().filter(port -> cli(port, "ROLE").startsWith("slave")).toList();
		for (int replica : replicas) {
			cli(replica, "CLUSTER", "FAILOVER");
		}
		for (int replica : replicas) {
			await(() -> cli(replica, "ROLE").startsWith("master"), "replica " + replica + " promoted");
		}
		for (int port : dataPorts) {
			await(() -> cli(port, "CLUSTER", "INFO").contains("cluster_state:ok"), "cluster ok on " + port);
		}
	}

	/**
	 * {@code kill -9} of the current master (Sentinel set-up): no {@code SENTINEL
	 * FAILOVER}, so writes the replica had not received yet are lost. Returns the port of
	 * the master that was killed; the sentinels promote the replica after
	 * {@code down-after-milliseconds} (1 s) plus their election.
	 */
	public int killMaster() {
		int master = masterPort();
		kill(master);
		return master;
	}

	/**
	 * Waits until the sentinels name a master other than {@code old} and it has the role.
	 */
	public int awaitNewMaster(int old) {
		await(() -> masterPort() != old, "a new master");
		int promoted = masterPort();
		await(() -> cli(promoted, "ROLE").startsWith("master"), "the new master took the role");
		return promoted;
	}

	/**
	 * {@code kill -9} of the Redis Cluster master that serves {@code key}'s slot (so the
	 * scenario's own keys are on the shard that fails); its replica is promoted after
	 * {@code cluster-node-timeout} (2 s) plus the election. Returns the killed port.
	 */
	public int killClusterMasterOf(String key) {
		int any = dataPorts.get(0);
		int slot = Integer.parseInt(cli(any, "CLUSTER", "KEYSLOT", key).strip());
		int master = dataPorts.stream()
			.filter(port -> cli(port, "ROLE").startsWith("master") && servesSlot(port, slot))
			.findFirst()
			.orElseThrow(() -> new IllegalStateException("no master serves slot " + slot));
		kill(master);
		return master;
	}

	private static boolean servesSlot(int port, int slot) {
		return cli(port, "CLUSTER", "NODES").lines().filter(line -> line.contains("myself")).anyMatch(line -> {
			String[] fields = line.split(" ");
			for (int i = 8; i < fields.length; i++) {
				String[] range = fields[i].split("-");
				if (range[0].startsWith("[")) {
					continue;
				}
				int low = Integer.parseInt(range[0]);
				int high = range.length > 1 ? Integer.parseInt(range[1]) : low;
				if (slot >= low && slot <= high) {
					return true;
				}
			}
			return false;
		});
	}

	/**
	 * Waits until a replica of the killed master has taken its place, then until every
	 * surviving node reports every slot served. Returns the promoted port.
	 */
	public int awaitClusterPromotion(int killed) {
		List<Integer> replicas = dataPorts.stream().filter(port -> dataProcesses.get(port).isAlive()).filter(port -> {
			String role = cli(port, "ROLE");
			return role.startsWith("slave")
					&& role.lines().anyMatch(line -> line.strip().equals(Integer.toString(killed)));
		}).toList();
		if (replicas.isEmpty()) {
			throw new IllegalStateException("no replica of " + killed + " found");
		}
		int promoted = replicas.get(0);
		await(() -> cli(promoted, "ROLE").startsWith("master"), "replica " + promoted + " promoted");
		awaitClusterOk();
		return promoted;
	}

	/** Waits until every surviving node reports every slot served again. */
	public void awaitClusterOk() {
		for (int port : dataPorts) {
			if (dataProcesses.get(port).isAlive()) {
				await(() -> cli(port, "CLUSTER", "INFO").contains("cluster_state:ok"), "cluster ok on " + port);
			}
		}
	}

	/** The port of a replica of the current master (Sentinel set-up). */
	public int replicaPort() {
		int master = masterPort();
		return dataPorts.stream().filter(port -> port != master).findFirst().orElseThrow();
	}

	/**
	 * SIGSTOP of the data node on this port: a replica that stops reading its master's
	 * stream and acknowledging it (its lag grows), while it still looks connected.
	 */
	public void pause(int port) {
		signal(port, "-STOP");
	}

	/** SIGCONT of a node {@link #pause paused}. */
	public void resume(int port) {
		signal(port, "-CONT");
	}

	private void signal(int port, String signal) {
		run(List.of("kill", signal, Long.toString(dataProcesses.get(port).pid())));
	}

	/** SIGKILL of the data node on this port. */
	public void kill(int port) {
		Process process = dataProcesses.get(port);
		process.destroyForcibly();
		try {
			process.waitFor(10, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/** The ports of the data nodes (masters and replicas). */
	public List<Integer> dataPorts() {
		return List.copyOf(dataPorts);
	}

	/**
	 * The channels subscribed on any node: {@code PUBSUB SHARDCHANNELS} (sharded) or
	 * {@code PUBSUB CHANNELS}.
	 */
	public List<String> subscribedChannels(boolean sharded) {
		return dataPorts.stream()
			.filter(port -> dataProcesses.get(port).isAlive())
			.flatMap(port -> cli(port, "PUBSUB", sharded ? "SHARDCHANNELS" : "CHANNELS", "stopline:*").lines())
			.map(String::strip)
			.filter(line -> !line.isEmpty())
			.distinct()
			.toList();
	}

	@Override
	public void close() {
		processes.forEach(Process::destroyForcibly);
		for (Process process : processes) {
			try {
				process.waitFor(10, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	private static RedisTopology create() {
		try {
			RedisTopology topology = new RedisTopology();
			Runtime.getRuntime().addShutdownHook(new Thread(topology::close));
			return topology;
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

	private void server(int port, String... extra) throws IOException {
		List<String> command = new ArrayList<>(List.of(TestRedis.redisServer(), "--port", Integer.toString(port),
				"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no", "--dir",
				dir.toString(), "--repl-diskless-sync-delay", "0"));
		command.addAll(List.of(extra));
		dataProcesses.put(port, start("redis-" + port, command));
		dataPorts.add(port);
		awaitPing(port);
	}

	private Process start(String name, List<String> command) throws IOException {
		Path log = dir.resolve(name + ".log");
		Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
		processes.add(process);
		return process;
	}

	private void awaitPing(int port) {
		await(() -> cli(port, "PING").startsWith("PONG"), "PING on " + port);
	}

	private void await(java.util.function.BooleanSupplier condition, String what) {
		long deadline = System.nanoTime() + BOUND.toNanos();
		while (true) {
			try {
				if (condition.getAsBoolean()) {
					return;
				}
			}
			catch (RuntimeException ex) {
				// not there yet
			}
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException("not within " + BOUND + ": " + what + " (logs in " + dir + ")");
			}
			LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
		}
	}

	/** One redis-cli command; its output. */
	public static String cli(int port, String... command) {
		List<String> full = new ArrayList<>(List.of(redisCli(), "-p", Integer.toString(port)));
		full.addAll(List.of(command));
		return run(full);
	}

	private static String run(List<String> command) {
		try {
			Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
			String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
				throw new IllegalStateException(command + " failed: " + output);
			}
			return output;
		}
		catch (IOException ex) {
			throw new IllegalStateException("could not run " + command, ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	private static String redisCli() {
		Path sibling = Path.of(TestRedis.redisServer()).resolveSibling("redis-cli");
		return Files.isExecutable(sibling) ? sibling.toString() : "redis-cli";
	}

}
