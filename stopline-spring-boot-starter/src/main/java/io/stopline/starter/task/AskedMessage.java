package io.stopline.starter.task;

import java.util.List;

import io.stopline.protocol.HistoryMessage;
import io.stopline.protocol.StartRun;

/**
 * The user's message a run answers, as the gateway's reservation wrote it to the history
 * (the last user message of the request, at the time the run was queued): written back by
 * a restore when a failover lost the reservation.
 */
final class AskedMessage {

	private AskedMessage() {
	}

	static HistoryMessage of(StartRun job) {
		List<StartRun.ChatMessage> messages = job.messages();
		String content = "";
		for (int i = messages.size() - 1; i >= 0; i--) {
			if ("user".equals(messages.get(i).role())) {
				content = messages.get(i).content();
				break;
			}
		}
		if (content.isEmpty() && !messages.isEmpty()) {
			content = messages.get(messages.size() - 1).content();
		}
		return HistoryMessage.user(content, job.runId(), job.requestedAt());
	}

}
