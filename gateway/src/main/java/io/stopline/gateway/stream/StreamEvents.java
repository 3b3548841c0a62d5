package io.stopline.gateway.stream;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.stopline.protocol.RunEvent;
import io.stopline.protocol.StopReceipt;
import io.stopline.protocol.HistoryMessage;
import io.stopline.core.run.RunRecord;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.io.JsonStringEncoder;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.stereotype.Component;

/**
 * The JSON a WebSocket client receives. Every event has {@code type},
 * {@code conversation_id}, {@code run_id} and {@code timestamp}; the first one on a
 * socket is {@code state}.
 *
 * <pre>
 * {"type":"state","conversation_id":"c-42","run_id":"run-1","timestamp":"…","messages":[…],"active_run":{"run_id":"run-1","state":"running",…}}
 * {"type":"message_added","conversation_id":"c-42","run_id":"run-1","timestamp":"…","message":{"role":"assistant","status":"streaming",…}}
 * {"type":"run_snapshot","conversation_id":"c-42","run_id":"run-1","timestamp":"…","content":"Stopline keeps","tokens":2}
 * {"type":"token","conversation_id":"c-42","run_id":"run-1","timestamp":"…","index":2,"delta":" every stop","count":2}
 * {"type":"tool_call_started","conversation_id":"c-42","run_id":"run-1","timestamp":"…","index":0,"call_id":"call_0","name":"files__read","arguments":"{…}"}
 * {"type":"tool_call_finished","conversation_id":"c-42","run_id":"run-1","timestamp":"…","index":0,"call_id":"call_0","name":"files__read","status":"completed","duration_ms":12,"result_chars":480}
 * {"type":"run_stopped","conversation_id":"c-42","run_id":"run-1","timestamp":"…","reason":"user","content":"Stopline keeps","tokens":2,"tool_calls":[{"id":"call_0","name":"files__read","arguments":"{…}","status":"cancelled_before_result",…}]}
 * </pre>
 */
@Component
class StreamEvents {

	private final JsonMapper mapper;

	StreamEvents(JsonMapper mapper) {
		this.mapper = mapper;
	}

	/** The client's JSON for a run event; empty for events that concern gateways only. */
	Optional<String> toJson(RunEvent event) {
		if (event instanceof RunEvent.TokenGenerated frame) {
			return Optional.of(token(frame));
		}
		Map<String, Object> json = switch (event) {
			case RunEvent.TokenGenerated frame -> throw new IllegalStateException("written by token()");
			case RunEvent.RunStarted started -> with(event, "run_started");
			case RunEvent.RunCompleted completed ->
				with(event, "run_completed", "content", completed.content(), "tokens", completed.tokens());
			case RunEvent.RunStopped stopped ->
				withReceipt(with(event, "run_stopped", "reason", stopped.reason().wireName(), "content",
						stopped.content(), "tokens", stopped.tokens(), "tool_calls", stopped.toolCalls()), stopped);
			case RunEvent.ToolCallStarted call -> with(event, "tool_call_started", "index", call.index(), "call_id",
					call.callId(), "name", call.name(), "arguments", call.arguments());
			// the result's size, never the result
			case RunEvent.ToolCallFinished call -> with(event, "tool_call_finished", "index", call.index(), "call_id",
					call.callId(), "name", call.name(), "status", call.status(), "duration_ms", call.durationMillis(),
					"result_chars", call.resultChars());
			case RunEvent.RunFailed failed ->
				with(event, "run_failed", "error", failed.error(), "content", failed.content());
			case RunEvent.RunPaused paused -> with(event, "run_paused");
			case RunEvent.RunResumed resumed -> with(event, "run_resumed");
			case RunEvent.RunSnapshot snapshot ->
				with(event, "run_snapshot", "content", snapshot.content(), "tokens", snapshot.tokens());
			case RunEvent.MessageAdded added -> with(event, "message_added", "message", added.message());
			case RunEvent.RunRolledBack rolled -> with(event, "run_rolled_back", "replaced_by", rolled.replacedBy());
			case RunEvent.StopIgnored ignored -> null;
			case RunEvent.ControlIgnored ignored -> null;
		};
		return Optional.ofNullable(json).map(mapper::writeValueAsString);
	}

	/**
	 * A token frame, the one event of every token: written straight into one string, the
	 * same JSON as {@link #with} gives through the mapper (same fields, order and
	 * escaping), without a map and a generator per frame, which made watched runs cost
	 * the gateway several times the allocations of their SSE stream.
	 */
	static String token(RunEvent.TokenGenerated frame) {
		// the fixed part and the timestamp take ~135 characters
		StringBuilder json = new StringBuilder(
				160 + frame.text().length() + frame.runId().length() + frame.conversationId().length());
		json.append("{\"type\":\"token\",\"conversation_id\":");
		quoted(json, frame.conversationId());
		json.append(",\"run_id\":");
		quoted(json, frame.runId());
		json.append(",\"timestamp\":\"").append(frame.at().truncatedTo(ChronoUnit.MILLIS)).append("\",\"index\":");
		json.append(frame.index()).append(",\"delta\":");
		quoted(json, frame.text());
		return json.append(",\"count\":").append(frame.count()).append('}').toString();
	}

	private static void quoted(StringBuilder json, String value) {
		json.append('"');
		JsonStringEncoder.getInstance().quoteAsString(value, json);
		json.append('"');
	}

	/** What a client needs first: the history so far and the active run, if any. */
	String state(String conversationId, List<HistoryMessage> messages, @Nullable RunRecord active) {
		Map<String, Object> json = new LinkedHashMap<>();
		json.put("type", "state");
		json.put("conversation_id", conversationId);
		json.put("run_id", active == null ? null : active.runId());
		json.put("timestamp", now());
		json.put("messages", messages);
		json.put("active_run", active == null ? null : activeRun(active));
		return mapper.writeValueAsString(json);
	}

	private static Map<String, Object> activeRun(RunRecord run) {
		Map<String, Object> json = new LinkedHashMap<>();
		json.put("run_id", run.runId());
		json.put("state", run.state().wireName());
		json.put("agent_name", run.agentName());
		json.put("started_at", run.since().truncatedTo(ChronoUnit.MILLIS).toString());
		return json;
	}

	/**
	 * A stop's receipt on its {@code run_stopped} event: the tokens kept and the stages,
	 * as the 200 stop answer has them.
	 */
	private static Map<String, Object> withReceipt(Map<String, Object> json, RunEvent.RunStopped stopped) {
		StopReceipt receipt = stopped.receipt();
		if (receipt != null) {
			json.put("tokens_kept", stopped.tokens());
			json.put("requested_at", receipt.requestedAt().toString());
			if (receipt.deliveredAt() != null) {
				json.put("delivered_at", receipt.deliveredAt().toString());
			}
			if (receipt.upstreamClosedAt() != null) {
				json.put("upstream_closed_at", receipt.upstreamClosedAt().toString());
			}
			json.put("persisted_at", receipt.persistedAt().toString());
		}
		return json;
	}

	private static Map<String, Object> with(RunEvent event, String type, Object... fields) {
		Map<String, Object> json = new LinkedHashMap<>();
		json.put("type", type);
		json.put("conversation_id", event.conversationId());
		json.put("run_id", event.runId());
		json.put("timestamp", event.at().truncatedTo(ChronoUnit.MILLIS).toString());
		for (int i = 0; i < fields.length; i += 2) {
			json.put((String) fields[i], fields[i + 1]);
		}
		return json;
	}

	private static String now() {
		return Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
	}

}
