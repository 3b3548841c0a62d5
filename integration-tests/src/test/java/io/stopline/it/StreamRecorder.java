package io.stopline.it;

import io.stopline.testing.OperationLog;
import io.stopline.testing.OperationLog.Kind;
import tools.jackson.databind.JsonNode;

/**
 * Puts what one chat stream shows its client into an {@link OperationLog}, event by
 * event, as it arrives: the run id the stream names, every token, the terminal event.
 */
final class StreamRecorder {

	private final OperationLog log;

	private final String conversation;

	private final String turn;

	private boolean named;

	private boolean ended;

	StreamRecorder(OperationLog log, String conversation, String turn) {
		this.log = log;
		this.conversation = conversation;
		this.turn = turn;
	}

	/**
	 * One event: a {@code data:} payload, {@code [DONE]}, or {@code error: ...} when the
	 * request failed; true once the stream has ended.
	 */
	synchronized boolean record(String event, int status) {
		if (ended) {
			return true;
		}
		if (event.equals("[DONE]")) {
			ended = true;
			return true;
		}
		if (event.startsWith("error:") || status != 200) {
			log.record(conversation, turn, Kind.SEND_ANSWER, "status:" + status);
			log.record(conversation, turn, Kind.TERMINAL, "error");
			ended = true;
			return true;
		}
		JsonNode chunk = Api.JSON.readTree(event);
		if (chunk.has("error")) {
			log.record(conversation, turn, Kind.TERMINAL, "error");
			return false;
		}
		if (!named) {
			named = true;
			log.record(conversation, turn, Kind.SEND_ANSWER, chunk.get("id").asString().replaceFirst("^chatcmpl-", ""));
		}
		JsonNode choice = chunk.get("choices").get(0);
		JsonNode content = choice.get("delta").get("content");
		if (content != null && !content.isNull() && !content.asString().isEmpty()) {
			log.record(conversation, turn, Kind.TOKEN, content.asString());
		}
		JsonNode finish = choice.get("finish_reason");
		if (finish != null && !finish.isNull()) {
			log.record(conversation, turn, Kind.TERMINAL, finish.asString());
		}
		return false;
	}

	/** The stream broke off: its end is an error. */
	synchronized void broken() {
		if (!ended) {
			ended = true;
			log.record(conversation, turn, Kind.TERMINAL, "error");
		}
	}

	/** The run id the stream named so far, from the log. */
	boolean named() {
		return named;
	}

}
