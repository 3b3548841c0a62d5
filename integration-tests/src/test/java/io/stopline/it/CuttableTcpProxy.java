package io.stopline.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A minimal TCP proxy in front of Redis whose link a test can cut and restore: while cut,
 * every open connection is closed and new ones are closed at once, as a network partition
 * between one node and Redis looks to that node (the other nodes keep their direct
 * connections). Test fixture of this class only; the fault-test harness has its own,
 * fuller proxy (latency, black holes).
 */
final class CuttableTcpProxy implements AutoCloseable {

	private final ServerSocket server;

	private final String targetHost;

	private final int targetPort;

	private final List<Socket> open = new CopyOnWriteArrayList<>();

	private volatile boolean cut;

	private volatile boolean closed;

	CuttableTcpProxy(String targetHost, int targetPort) {
		this.targetHost = targetHost;
		this.targetPort = targetPort;
		try {
			this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		Thread.ofPlatform().daemon().name("proxy-accept").start(this::accept);
	}

	int port() {
		return server.getLocalPort();
	}

	/** Closes every proxied connection and refuses new ones until {@link #restore()}. */
	void cut() {
		cut = true;
		open.forEach(CuttableTcpProxy::closeQuietly);
		open.clear();
	}

	void restore() {
		cut = false;
	}

	private void accept() {
		while (!closed) {
			try {
				Socket client = server.accept();
				if (cut) {
					closeQuietly(client);
					continue;
				}
				Socket upstream = new Socket(targetHost, targetPort);
				open.add(client);
				open.add(upstream);
				Thread.ofVirtual().start(() -> pump(client, upstream));
				Thread.ofVirtual().start(() -> pump(upstream, client));
			}
			catch (IOException ex) {
				if (closed) {
					return;
				}
			}
		}
	}

	private void pump(Socket from, Socket to) {
		byte[] buffer = new byte[16384];
		try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
			int read;
			while ((read = in.read(buffer)) >= 0) {
				out.write(buffer, 0, read);
				out.flush();
			}
		}
		catch (IOException ex) {
			// the link was cut or one side closed: close the other side too
		}
		finally {
			closeQuietly(from);
			closeQuietly(to);
			open.remove(from);
			open.remove(to);
		}
	}

	private static void closeQuietly(Socket socket) {
		try {
			socket.close();
		}
		catch (IOException ex) {
			// closing anyway
		}
	}

	@Override
	public void close() {
		closed = true;
		cut();
		try {
			server.close();
		}
		catch (IOException ex) {
			// closing anyway
		}
	}

}
