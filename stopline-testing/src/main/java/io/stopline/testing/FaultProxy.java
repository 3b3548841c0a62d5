package io.stopline.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A TCP proxy to put between a node and Redis, for the faults the kernel here cannot make
 * (it has no {@code netem}): added latency per direction, a cut (every connection closed
 * at once and new ones refused, like a crashed peer: the client sees resets) and a heal.
 * Bytes keep their order; latency delays each chunk by the same amount, so throughput is
 * kept and only the round trip grows.
 */
public final class FaultProxy implements AutoCloseable {

	private final String host;

	private final int port;

	private final int targetPort;

	private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();

	private final AtomicLong accepted = new AtomicLong();

	private volatile long toTargetNanos;

	private volatile long toClientNanos;

	private volatile ServerSocket server;

	private volatile boolean closed;

	private FaultProxy(String host, int port, int targetPort) {
		this.host = host;
		this.port = port;
		this.targetPort = targetPort;
	}

	/** A proxy on a free local port, to {@code 127.0.0.1:targetPort}. */
	public static FaultProxy to(int targetPort) {
		return listening("127.0.0.1", 0, targetPort);
	}

	/**
	 * A proxy listening on {@code host} (e.g. the host side of a network namespace's veth
	 * pair), to {@code 127.0.0.1:targetPort}.
	 */
	public static FaultProxy listening(String host, int port, int targetPort) {
		try {
			ServerSocket server = bind(host, port);
			FaultProxy proxy = new FaultProxy(host, server.getLocalPort(), targetPort);
			proxy.serve(server);
			Runtime.getRuntime().addShutdownHook(new Thread(proxy::close));
			return proxy;
		}
		catch (IOException ex) {
			throw new IllegalStateException("could not listen on " + host + ":" + port, ex);
		}
	}

	public String host() {
		return host;
	}

	public int port() {
		return port;
	}

	/** {@code redis://host:port}. */
	public String redisUrl() {
		return "redis://" + host + ":" + port;
	}

	/** Connections accepted so far. */
	public long accepted() {
		return accepted.get();
	}

	/**
	 * Adds latency to every byte from now on: {@code toTarget} on the way to Redis,
	 * {@code toClient} on the way back.
	 */
	public void latency(Duration toTarget, Duration toClient) {
		this.toTargetNanos = toTarget.toNanos();
		this.toClientNanos = toClient.toNanos();
	}

	/**
	 * Closes every connection and refuses new ones (the port is closed) until
	 * {@link #heal()}.
	 */
	public synchronized void cut() {
		closeQuietly(server);
		server = null;
		sockets.forEach(FaultProxy::closeQuietly);
		sockets.clear();
	}

	/** Accepts connections again, on the same port. */
	public synchronized void heal() {
		if (server != null || closed) {
			return;
		}
		try {
			serve(bind(host, port));
		}
		catch (IOException ex) {
			throw new IllegalStateException("could not listen on " + host + ":" + port + " again", ex);
		}
	}

	@Override
	public synchronized void close() {
		closed = true;
		cut();
	}

	private static ServerSocket bind(String host, int port) throws IOException {
		ServerSocket server = new ServerSocket();
		server.setReuseAddress(true);
		server.bind(new InetSocketAddress(InetAddress.getByName(host), port), 256);
		return server;
	}

	private void serve(ServerSocket listening) {
		this.server = listening;
		Thread.ofVirtual().name("fault-proxy-accept-" + port).start(() -> {
			while (!listening.isClosed()) {
				try {
					Socket client = listening.accept();
					accepted.incrementAndGet();
					connect(client);
				}
				catch (IOException ex) {
					// closed by cut() or close()
				}
			}
		});
	}

	private void connect(Socket client) {
		try {
			Socket target = new Socket("127.0.0.1", targetPort);
			client.setTcpNoDelay(true);
			target.setTcpNoDelay(true);
			sockets.add(client);
			sockets.add(target);
			pipe(client, target, true);
			pipe(target, client, false);
		}
		catch (IOException ex) {
			closeQuietly(client);
		}
	}

	/**
	 * One direction: a reader stamps each chunk with the time it is due, a writer sends
	 * it then.
	 */
	private void pipe(Socket from, Socket to, boolean toTarget) {
		BlockingQueue<Chunk> chunks = new LinkedBlockingQueue<>();
		Thread.ofVirtual().start(() -> {
			byte[] buffer = new byte[16 * 1024];
			try (InputStream in = from.getInputStream()) {
				int read;
				while ((read = in.read(buffer)) >= 0) {
					long delay = toTarget ? toTargetNanos : toClientNanos;
					chunks.add(new Chunk(Arrays.copyOf(buffer, read), System.nanoTime() + delay));
				}
			}
			catch (IOException ex) {
				// the connection ended
			}
			chunks.add(Chunk.END);
		});
		Thread.ofVirtual().start(() -> {
			try (OutputStream out = to.getOutputStream()) {
				while (true) {
					Chunk chunk = chunks.take();
					if (chunk == Chunk.END) {
						break;
					}
					long wait;
					while ((wait = chunk.dueAt() - System.nanoTime()) > 0) {
						LockSupport.parkNanos(wait);
					}
					out.write(chunk.bytes());
					out.flush();
				}
			}
			catch (IOException ex) {
				// the other side ended
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			finally {
				closeQuietly(from);
				closeQuietly(to);
				sockets.remove(from);
				sockets.remove(to);
			}
		});
	}

	private static void closeQuietly(AutoCloseable closeable) {
		if (closeable == null) {
			return;
		}
		try {
			closeable.close();
		}
		catch (Exception ex) {
			// already closed
		}
	}

	private record Chunk(byte[] bytes, long dueAt) {

		static final Chunk END = new Chunk(new byte[0], 0);

	}

}
