package io.stopline.gateway.stop;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import io.stopline.protocol.RunEvent;
import io.stopline.protocol.StopReceipt;
import org.jspecify.annotations.Nullable;

import org.springframework.http.ResponseEntity;

/**
 * What one stop request achieved, on which run, and the owner's confirmation when it came
 * (its receipt: the tokens kept and the stages).
 */
record StopOutcome(StopResult result, @Nullable String runId, RunEvent.@Nullable RunStopped confirmation) {

	static StopOutcome of(StopResult result, @Nullable String runId) {
		return new StopOutcome(result, runId, null);
	}

	/**
	 * The answer of a single stop: 200 (with the receipt when the owner's confirmation
	 * came), 202, or a 404 problem.
	 */
	ResponseEntity<Map<String, Object>> answer(String conversationId) {
		ResponseEntity<Map<String, String>> plain = result.answer(conversationId);
		Map<String, Object> body = new LinkedHashMap<>(plain.getBody() == null ? Map.of() : plain.getBody());
		if (runId != null) {
			body.put("run_id", runId);
		}
		if (confirmation != null && result == StopResult.CONFIRMED) {
			body.put("tokens_kept", confirmation.tokens());
			StopReceipt receipt = confirmation.receipt();
			if (receipt != null) {
				put(body, "requested_at", receipt.requestedAt());
				put(body, "delivered_at", receipt.deliveredAt());
				put(body, "upstream_closed_at", receipt.upstreamClosedAt());
				put(body, "persisted_at", receipt.persistedAt());
			}
		}
		return ResponseEntity.status(plain.getStatusCode()).body(body);
	}

	private static void put(Map<String, Object> body, String name, @Nullable Instant at) {
		if (at != null) {
			body.put(name, at.toString());
		}
	}

}
