package io.stopline.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A network namespace of its own for one process, joined to the host by a veth pair on a
 * private /30 ({@code 10.213.<n>.1} on the host, {@code .2} inside): a node started with
 * {@link #commandPrefix()} reaches the host only through that pair. A partition is
 * {@code iptables -j DROP} of everything in and out of the namespace (rules inside it, so
 * the host's own rules are never touched): established TCP connections stay open and
 * their packets vanish, as when a cable or a switch fails. Needs root, {@code ip} and
 * {@code iptables}; {@link #unavailable()} says why not.
 */
public final class NetworkNamespace implements AutoCloseable {

	private final String name;

	private final String hostInterface;

	private final String hostAddress;

	private final String innerAddress;

	private NetworkNamespace(String name, String hostInterface, String hostAddress, String innerAddress) {
		this.name = name;
		this.hostInterface = hostInterface;
		this.hostAddress = hostAddress;
		this.innerAddress = innerAddress;
	}

	/**
	 * Why namespaces cannot be made here (not root, no {@code ip} or {@code iptables}, or
	 * the kernel refuses), or empty when they can.
	 */
	public static Optional<String> unavailable() {
		if (!"root".equals(System.getProperty("user.name"))) {
			return Optional.of("network namespaces need root (running as " + System.getProperty("user.name") + ")");
		}
		for (String tool : List.of("ip", "iptables")) {
			if (find(tool).isEmpty()) {
				return Optional.of(tool + " is not installed (apt-get install iproute2 iptables)");
			}
		}
		String probe = "sl-probe-" + ThreadLocalRandom.current().nextInt(100_000);
		try {
			run("ip", "netns", "add", probe);
			run("ip", "netns", "exec", probe, "iptables", "-S");
			return Optional.empty();
		}
		catch (IllegalStateException ex) {
			return Optional.of("cannot create a network namespace with a firewall: " + ex.getMessage());
		}
		finally {
			runQuietly("ip", "netns", "del", probe);
		}
	}

	/** A new namespace and its veth pair, up and addressed. */
	public static NetworkNamespace create() {
		for (int attempt = 0; attempt < 5; attempt++) {
			int subnet = ThreadLocalRandom.current().nextInt(1, 255);
			String suffix = Integer.toString(ThreadLocalRandom.current().nextInt(1 << 20), 36);
			String name = "sl-" + suffix;
			String host = "slh" + suffix;
			String inner = "sln" + suffix;
			String hostAddress = "10.213." + subnet + ".1";
			if (addressInUse(hostAddress)) {
				continue;
			}
			NetworkNamespace namespace = new NetworkNamespace(name, host, hostAddress, "10.213." + subnet + ".2");
			try {
				run("ip", "netns", "add", name);
				run("ip", "link", "add", host, "type", "veth", "peer", "name", inner);
				run("ip", "link", "set", inner, "netns", name);
				run("ip", "addr", "add", hostAddress + "/30", "dev", host);
				run("ip", "link", "set", host, "up");
				namespace.exec("ip", "addr", "add", namespace.innerAddress + "/30", "dev", inner);
				namespace.exec("ip", "link", "set", inner, "up");
				namespace.exec("ip", "link", "set", "lo", "up");
				Runtime.getRuntime().addShutdownHook(new Thread(namespace::close));
				return namespace;
			}
			catch (IllegalStateException ex) {
				namespace.close();
				throw ex;
			}
		}
		throw new IllegalStateException("no free 10.213.x.0/30 subnet found");
	}

	/** The host's end of the pair: what a process inside connects to. */
	public String hostAddress() {
		return hostAddress;
	}

	/** {@code ip netns exec <name>}: put it before a command to run it inside. */
	public List<String> commandPrefix() {
		return List.of(find("ip").orElse("ip"), "netns", "exec", name);
	}

	/**
	 * Drops every packet into and out of the namespace (but its loopback), both ways,
	 * until {@link #heal()}.
	 */
	public void partition() {
		exec("iptables", "-I", "INPUT", "1", "!", "-i", "lo", "-j", "DROP");
		exec("iptables", "-I", "OUTPUT", "1", "!", "-o", "lo", "-j", "DROP");
	}

	/** Removes the partition. */
	public void heal() {
		exec("iptables", "-F", "INPUT");
		exec("iptables", "-F", "OUTPUT");
	}

	@Override
	public void close() {
		runQuietly("ip", "link", "del", hostInterface);
		runQuietly("ip", "netns", "del", name);
	}

	private void exec(String... command) {
		List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
		full.addAll(List.of(command));
		run(full.toArray(String[]::new));
	}

	private static boolean addressInUse(String address) {
		try {
			return run("ip", "-o", "addr", "show").contains(" " + address + "/");
		}
		catch (IllegalStateException ex) {
			return false;
		}
	}

	private static Optional<String> find(String tool) {
		for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin")) {
			Path path = Path.of(dir, tool);
			if (Files.isExecutable(path)) {
				return Optional.of(path.toString());
			}
		}
		return Optional.empty();
	}

	private static String run(String... command) {
		List<String> full = new ArrayList<>(List.of(command));
		full.set(0, find(command[0]).orElse(command[0]));
		try {
			Process process = new ProcessBuilder(full).redirectErrorStream(true).start();
			String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			if (!process.waitFor(10, TimeUnit.SECONDS) || process.exitValue() != 0) {
				throw new IllegalStateException(String.join(" ", command) + " failed: " + output.strip());
			}
			return output;
		}
		catch (IOException ex) {
			throw new IllegalStateException(String.join(" ", command) + " could not run: " + ex.getMessage());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	private static void runQuietly(String... command) {
		try {
			run(command);
		}
		catch (IllegalStateException ex) {
			// already gone
		}
	}

}
