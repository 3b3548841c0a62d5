package io.stopline.bench;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Where each confirmed stop's time went, from its answer's receipt: the client's send →
 * the gateway's request ({@code requested_at}) → the owner's listener
 * ({@code delivered_at}) → the owner starts writing the partial answer
 * ({@code persisted_at}, stamped before the events that carry it are encoded and the
 * script writes them) → the client's receipt of the answer. Every node and the load
 * generator read the same machine's wall clock, so the stages add up to the stop's time.
 * The slowest stops' mean per stage says which stage makes the tail.
 */
final class StopStages {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final String[] NAMES = { "client_to_gateway", "gateway_to_owner", "owner_to_writing",
			"writing_to_client" };

	private final List<long[]> stops = new ArrayList<>();

	/**
	 * One confirmed stop: sent and answered on the wall clock (epoch nanoseconds), its
	 * answer's body. An answer without a receipt (not confirmed by the owner) is not
	 * counted.
	 */
	void add(long sentEpochNanos, long answeredEpochNanos, String body) {
		long requested;
		long delivered;
		long persisted;
		try {
			JsonNode answer = JSON.readTree(body);
			if (!answer.has("requested_at") || !answer.has("delivered_at") || !answer.has("persisted_at")) {
				return;
			}
			requested = epochNanos(Instant.parse(answer.get("requested_at").asString()));
			delivered = epochNanos(Instant.parse(answer.get("delivered_at").asString()));
			persisted = epochNanos(Instant.parse(answer.get("persisted_at").asString()));
		}
		catch (RuntimeException ex) {
			return;
		}
		long[] stages = { requested - sentEpochNanos, delivered - requested, persisted - delivered,
				answeredEpochNanos - persisted, answeredEpochNanos - sentEpochNanos };
		synchronized (stops) {
			stops.add(stages);
		}
	}

	static long epochNanos(Instant at) {
		return at.getEpochSecond() * 1_000_000_000L + at.getNano();
	}

	static long nowEpochNanos() {
		return epochNanos(Instant.now());
	}

	Map<String, Object> summary() {
		List<long[]> all;
		synchronized (stops) {
			all = new ArrayList<>(stops);
		}
		Map<String, Object> summary = new LinkedHashMap<>();
		summary.put("confirmed", all.size());
		if (all.isEmpty()) {
			return summary;
		}
		for (int stage = 0; stage < NAMES.length; stage++) {
			Latencies latencies = new Latencies();
			for (long[] stop : all) {
				latencies.add(Math.max(0, stop[stage]));
			}
			Map<String, Object> figures = new LinkedHashMap<>();
			figures.put("p50_ms", Latencies.round(latencies.ms(0.5)));
			figures.put("p99_ms", Latencies.round(latencies.ms(0.99)));
			summary.put(NAMES[stage], figures);
		}
		// the slowest 2 % (at least 2): the mean of each stage, in milliseconds
		all.sort(Comparator.comparingLong((long[] stop) -> stop[NAMES.length]).reversed());
		List<long[]> slowest = all.subList(0, Math.min(all.size(), Math.max(2, all.size() / 50)));
		Map<String, Object> tail = new LinkedHashMap<>();
		tail.put("stops", slowest.size());
		for (int stage = 0; stage <= NAMES.length; stage++) {
			double sum = 0;
			for (long[] stop : slowest) {
				sum += Math.max(0, stop[stage]);
			}
			tail.put(stage == NAMES.length ? "total_ms" : NAMES[stage] + "_ms",
					Latencies.round(sum / slowest.size() / 1e6));
		}
		summary.put("slowest_mean", tail);
		return summary;
	}

}
