package io.stopline.gateway.chat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;

import io.stopline.core.run.RunRecord;
import tools.jackson.core.io.JsonStringEncoder;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes one client's SSE stream: events are gathered and leave with one write and one
 * flush per batch (every frame that is waiting when the stream wakes up), not one per
 * token. A text delta is the run's chunk JSON with the text spliced in: the chunk around
 * it is serialized once per stream by the same mapper, so the bytes are exactly what the
 * mapper would write. Every event carries {@code id: <run id>:<index>}, the index being
 * the tokens of the answer the client holds once it has the event ({@link #at}): what a
 * resumed stream starts after.
 */
final class SseWriter {

	private static final String MARK = "\u0001stopline-delta\u0001";

	private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);

	private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);

	private final byte[] idPrefix;

	/** The token index the next events' id carries. */
	private int index;

	private OutputStream out;

	private final JsonMapper mapper;

	private final RunRecord run;

	private final byte[] deltaPrefix;

	private final byte[] deltaSuffix;

	private final ByteArrayOutputStream batch = new ByteArrayOutputStream(1024);

	SseWriter(OutputStream out, JsonMapper mapper, RunRecord run) {
		this.out = out;
		this.mapper = mapper;
		this.run = run;
		this.idPrefix = ("id: " + run.runId() + ":").getBytes(StandardCharsets.UTF_8);
		at(0);
		String template = mapper.writeValueAsString(ChatChunks.delta(run, null, MARK));
		String quotedMark = new String(JsonStringEncoder.getInstance().quoteAsCharArray(MARK));
		int at = template.indexOf(quotedMark);
		if (at < 0) {
			throw new IllegalStateException("delta template without its mark: " + template);
		}
		this.deltaPrefix = template.substring(0, at).getBytes(StandardCharsets.UTF_8);
		this.deltaSuffix = template.substring(at + quotedMark.length()).getBytes(StandardCharsets.UTF_8);
	}

	/** The events that follow carry this token index in their id. */
	void at(int index) {
		if (index < 0) {
			throw new IllegalArgumentException("a token index is 0 or more: " + index);
		}
		this.index = index;
	}

	/** {@code id: <run id>:<index>\n}, its digits written without a string per event. */
	private void id() {
		batch.writeBytes(idPrefix);
		int divisor = 1;
		while (index / divisor >= 10) {
			divisor *= 10;
		}
		for (int rest = index; divisor > 0; divisor /= 10) {
			batch.write('0' + rest / divisor);
			rest %= divisor;
		}
		batch.write('\n');
	}

	/** A {@code chat.completion.chunk} carrying {@code text}. */
	void delta(String text) {
		id();
		batch.writeBytes(DATA);
		batch.writeBytes(deltaPrefix);
		batch.writeBytes(JsonStringEncoder.getInstance().quoteAsUTF8(text));
		batch.writeBytes(deltaSuffix);
		batch.writeBytes(END);
	}

	/** Any other payload, serialized by the mapper. */
	void event(Object payload) {
		id();
		batch.writeBytes(DATA);
		batch.writeBytes(mapper.writeValueAsBytes(payload));
		batch.writeBytes(END);
	}

	/** The last chunk: no delta, the finish reason. */
	void finish(String reason) {
		event(ChatChunks.finish(run, reason));
	}

	/** A tool call of the run, as a {@code tool_calls} delta. */
	void toolCall(int index, String id, String name, String arguments) {
		event(ChatChunks.toolCall(run, index, id, name, arguments));
	}

	void done() {
		id();
		batch.writeBytes("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
	}

	/**
	 * Once the response is committed (status and headers out, through every wrapper),
	 * writes go straight to the servlet container's stream: the wrappers (Spring
	 * Security's commit tracking, the request's async lifecycle checks) only add a few
	 * calls per write after that, 3 % of the gateway's CPU with 400 chats streaming.
	 */
	void writeDirectly(ServletResponse response) throws IOException {
		if (!response.isCommitted()) {
			return;
		}
		ServletResponse inner = response;
		while (inner instanceof ServletResponseWrapper wrapper) {
			inner = wrapper.getResponse();
		}
		if (inner != response) {
			out = inner.getOutputStream();
		}
	}

	/** Sends the batch: one write, one flush. */
	void flush() throws IOException {
		if (batch.size() == 0) {
			return;
		}
		batch.writeTo(out);
		batch.reset();
		out.flush();
	}

}
