package io.stopline.gateway.chat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import io.stopline.protocol.RunEvent;

/**
 * Relays a run's events to one client's SSE stream until the run ends: a chat's own
 * stream and a resumed one. Every event already waiting when the stream wakes up leaves
 * in the same write and flush; each carries the id of the tokens delivered with it.
 */
final class ChunkStream {

	/** The run's next event, waiting as long as it takes. */
	@FunctionalInterface
	interface Events {

		RunEvent next(ChatSession session) throws InterruptedException;

	}

	private ChunkStream() {
	}

	static void relay(ChatSession session, SseWriter sse, TokenOrder tokens, Events events) throws IOException {
		List<RunEvent> batch = new ArrayList<>();
		try {
			boolean ended = false;
			while (!ended) {
				batch.add(events.next(session));
				session.drainTo(batch);
				for (RunEvent event : batch) {
					if (!ended) {
						ended = write(sse, tokens, event);
					}
				}
				batch.clear();
				sse.flush();
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/** Adds one event to the batch; true when it ends the stream. */
	static boolean write(SseWriter sse, TokenOrder tokens, RunEvent event) {
		switch (event) {
			case RunEvent.TokenGenerated frame -> {
				String text = tokens.accept(frame);
				if (!text.isEmpty()) {
					sse.at(tokens.next());
					sse.delta(text);
				}
			}
			case RunEvent.RunSnapshot snapshot -> {
				// a joined run's answer so far: its tokens continue after it
				String text = tokens.snapshot(snapshot.content(), snapshot.tokens());
				if (!text.isEmpty()) {
					sse.at(tokens.next());
					sse.delta(text);
				}
			}
			case RunEvent.RunCompleted completed -> {
				sendRest(sse, tokens, completed.content(), completed.tokens());
				sse.finish("stop");
			}
			case RunEvent.RunStopped stopped -> {
				sendRest(sse, tokens, stopped.content(), stopped.tokens());
				sse.finish(ChatChunks.CANCELLED);
			}
			case RunEvent.RunFailed failed -> sse.event(ChatChunks.StreamError.of(failed.error()));
			case RunEvent.ToolCallStarted call ->
				sse.toolCall(call.index(), call.callId(), call.name(), call.arguments());
			default -> {
			}
		}
		if (event.isTerminal()) {
			sse.done();
			return true;
		}
		return false;
	}

	/**
	 * The terminal event carries the recorded text. Whatever of it this stream has not
	 * delivered (a token overtaken by the terminal event, or lost on the way) goes out
	 * now, so the client always ends with exactly the recorded answer, never more. Its id
	 * is the answer's token count when the event knows it.
	 */
	private static void sendRest(SseWriter sse, TokenOrder tokens, String recorded, int recordedTokens) {
		String rest = tokens.rest(recorded);
		if (recordedTokens >= 0) {
			sse.at(recordedTokens);
		}
		if (!rest.isEmpty()) {
			sse.delta(rest);
		}
	}

}
