package io.stopline.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A Redis PING on a raw socket, no client library: one Redis round trip as the floors
 * measure it.
 */
final class RawPing implements AutoCloseable {

	private static final byte[] PING = "PING\r\n".getBytes(StandardCharsets.US_ASCII);

	private final Socket socket;

	private final OutputStream out;

	private final BufferedReader in;

	/** {@code timeout}: how long a reply may take (zero: no bound). */
	RawPing(String redisUrl, Duration timeout) throws IOException {
		URI uri = URI.create(redisUrl);
		this.socket = new Socket(uri.getHost(), uri.getPort());
		socket.setTcpNoDelay(true);
		socket.setSoTimeout((int) timeout.toMillis());
		this.out = socket.getOutputStream();
		this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
	}

	/** One PING answered, in nanoseconds. */
	long roundTrip() throws IOException {
		long start = System.nanoTime();
		out.write(PING);
		out.flush();
		String reply = in.readLine();
		long took = System.nanoTime() - start;
		if (!"+PONG".equals(reply)) {
			throw new IOException("PING answered " + reply);
		}
		return took;
	}

	@Override
	public void close() throws IOException {
		socket.close();
	}

}
