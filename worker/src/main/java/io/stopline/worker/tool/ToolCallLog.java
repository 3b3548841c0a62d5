package io.stopline.worker.tool;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.stopline.protocol.HistoryMessage;
import io.stopline.protocol.ToolCallRecord;

/**
 * The tool calls of one run and what became of each, in the order the model asked for
 * them: for the history, the stop event and the run's end.
 */
public final class ToolCallLog {

	private final Map<Integer, Entry> entries = new TreeMap<>();

	private int next;

	/** The number of the next call of the run. */
	synchronized int nextIndex() {
		return next++;
	}

	synchronized void record(int index, ToolCallRecord record, String result) {
		entries.put(index, new Entry(record, result));
	}

	public synchronized List<ToolCallRecord> records() {
		return entries.values().stream().map(Entry::record).toList();
	}

	/** One {@code tool} message per call, with its result when one arrived. */
	public synchronized List<HistoryMessage> history(String runId, Instant at) {
		return entries.values()
			.stream()
			.map(entry -> HistoryMessage.tool(entry.record(), entry.result(), runId, at))
			.toList();
	}

	private record Entry(ToolCallRecord record, String result) {
	}

}
