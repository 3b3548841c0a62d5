package io.stopline.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;

/**
 * The floor of the token path, measured beside Stopline in the same run: the thinnest
 * relay of the same tokens. A publisher thread PUBLISHes one message per token (raw RESP
 * on one socket, as a model-side process would); one subscriber thread reads them (raw
 * RESP) and writes each as an SSE event to its client's socket. No auth, no registry, no
 * JSON library, no framing. Its CPU is the CPU time of its own threads.
 */
final class FloorRelay implements AutoCloseable {

	private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

	private final ServerSocket server;

	private final Map<String, OutputStream> clients = new ConcurrentHashMap<>();

	private final List<Thread> threads = new CopyOnWriteArrayList<>();

	private final URI redis;

	private volatile boolean running = true;

	private volatile int streams;

	private volatile long tokenIntervalNanos;

	FloorRelay(String redisUrl) throws IOException {
		this.redis = URI.create(redisUrl);
		this.server = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress());
		start("floor-accept", this::accept);
		start("floor-subscriber", this::subscribe);
		start("floor-publisher", this::publish);
	}

	String url(String stream) {
		return "http://127.0.0.1:" + server.getLocalPort() + "/floor/" + stream;
	}

	/** Starts publishing {@code count} streams of one token per interval each. */
	void streams(int count, long tokenIntervalNanos) {
		this.tokenIntervalNanos = tokenIntervalNanos;
		this.streams = count;
	}

	/** CPU nanoseconds of the relay's own threads so far. */
	long cpuNanos() {
		return threads.stream().mapToLong(thread -> Math.max(0, THREADS.getThreadCpuTime(thread.threadId()))).sum();
	}

	private void start(String name, Runnable body) {
		Thread thread = Thread.ofPlatform().daemon().name(name).start(() -> {
			try {
				body.run();
			}
			catch (RuntimeException ex) {
				if (running) {
					throw ex;
				}
			}
		});
		threads.add(thread);
	}

	private void accept() {
		while (running) {
			try {
				Socket socket = server.accept();
				socket.setTcpNoDelay(true);
				InputStream in = socket.getInputStream();
				StringBuilder request = new StringBuilder();
				int c;
				while ((c = in.read()) != -1) {
					request.append((char) c);
					if (request.length() >= 4 && request.substring(request.length() - 4).equals("\r\n\r\n")) {
						break;
					}
				}
				String path = request.substring(request.indexOf(" ") + 1, request.indexOf(" HTTP/"));
				OutputStream out = socket.getOutputStream();
				out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
					.getBytes(StandardCharsets.US_ASCII));
				out.flush();
				clients.put(path.substring(path.lastIndexOf('/') + 1), out);
			}
			catch (IOException ex) {
				if (!running) {
					return;
				}
			}
		}
	}

	private void subscribe() {
		try (Socket socket = new Socket(redis.getHost(), redis.getPort())) {
			socket.setTcpNoDelay(true);
			socket.getOutputStream().write("SUBSCRIBE floor\r\n".getBytes(StandardCharsets.US_ASCII));
			InputStream in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
			byte[] prefix = "data: {\"choices\":[{\"delta\":{\"content\":\"".getBytes(StandardCharsets.US_ASCII);
			byte[] suffix = "\"}}]}\n\n".getBytes(StandardCharsets.US_ASCII);
			while (running) {
				// *3 $7 message $5 floor $n payload, or the subscribe confirmation
				readLine(in);
				String kind = bulk(in);
				String channel = bulk(in);
				if (!"message".equals(kind)) {
					readLine(in);
					continue;
				}
				String payload = bulk(in);
				int space = payload.indexOf(' ');
				OutputStream out = clients.get(payload.substring(0, space));
				if (out != null && channel != null) {
					byte[] token = payload.substring(space).getBytes(StandardCharsets.US_ASCII);
					byte[] event = new byte[prefix.length + token.length + suffix.length];
					System.arraycopy(prefix, 0, event, 0, prefix.length);
					System.arraycopy(token, 0, event, prefix.length, token.length);
					System.arraycopy(suffix, 0, event, prefix.length + token.length, suffix.length);
					try {
						out.write(event);
					}
					catch (IOException ex) {
						clients.values().remove(out);
					}
				}
			}
		}
		catch (IOException ex) {
			if (running) {
				throw new IllegalStateException(ex);
			}
		}
	}

	/** One PUBLISH per token, streams round robin at the configured rate. */
	private void publish() {
		try (Socket socket = new Socket(redis.getHost(), redis.getPort())) {
			socket.setTcpNoDelay(true);
			OutputStream out = socket.getOutputStream();
			InputStream replies = socket.getInputStream();
			start("floor-replies", () -> drain(replies));
			long next = System.nanoTime();
			int stream = 0;
			while (running) {
				int count = streams;
				if (count == 0) {
					LockSupport.parkNanos(1_000_000);
					next = System.nanoTime();
					continue;
				}
				long now = System.nanoTime();
				if (now < next) {
					LockSupport.parkNanos(next - now);
					continue;
				}
				long micros = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
				String payload = "s" + stream + " " + micros;
				out.write(("*3\r\n$7\r\nPUBLISH\r\n$5\r\nfloor\r\n$" + payload.length() + "\r\n" + payload + "\r\n")
					.getBytes(StandardCharsets.US_ASCII));
				stream = (stream + 1) % count;
				next += tokenIntervalNanos / count;
			}
		}
		catch (IOException ex) {
			if (running) {
				throw new IllegalStateException(ex);
			}
		}
	}

	private void drain(InputStream replies) {
		byte[] buffer = new byte[64 * 1024];
		try {
			while (running && replies.read(buffer) != -1) {
				// the publish counts: nothing to do with them
			}
		}
		catch (IOException ex) {
			// closed
		}
	}

	private static String readLine(InputStream in) throws IOException {
		StringBuilder line = new StringBuilder();
		int c;
		while ((c = in.read()) != -1) {
			if (c == '\r') {
				in.read();
				return line.toString();
			}
			line.append((char) c);
		}
		throw new IOException("closed");
	}

	private static String bulk(InputStream in) throws IOException {
		String header = readLine(in);
		if (header.startsWith(":")) {
			return null;
		}
		int length = Integer.parseInt(header.substring(1));
		byte[] data = in.readNBytes(length);
		readLine(in);
		return new String(data, StandardCharsets.US_ASCII);
	}

	/** Stops publishing and closes every client stream. */
	void reset() {
		streams = 0;
		clients.values().forEach(out -> {
			try {
				out.close();
			}
			catch (IOException ex) {
				// gone
			}
		});
		clients.clear();
	}

	@Override
	public void close() {
		running = false;
		reset();
		try {
			server.close();
		}
		catch (IOException ex) {
			// closing
		}
		threads.forEach(Thread::interrupt);
	}

}
