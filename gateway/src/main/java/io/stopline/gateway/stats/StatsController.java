package io.stopline.gateway.stats;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.stopline.gateway.system.Problems;
import io.stopline.core.ops.StopStats;
import io.stopline.core.ops.StopStats.Bucket;
import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /v1/stats/stops} (admin): stops per hour or per day over a range, from the
 * counters every node writes to Redis, so every gateway answers the same.
 */
@RestController
class StatsController {

	private final StopStats stats;

	StatsController(StopStats stats) {
		this.stats = stats;
	}

	@GetMapping("/v1/stats/stops")
	Map<String, Object> stops(@RequestParam(required = false) @Nullable Instant from,
			@RequestParam(required = false) @Nullable Instant to,
			@RequestParam(defaultValue = "hour") String granularity) {
		Instant end = to != null ? to : Instant.now();
		Instant start = from != null ? from : end.minus(1, ChronoUnit.DAYS);
		if (!start.isBefore(end) || Duration.between(start, end).compareTo(StopStats.RETENTION) > 0) {
			throw Problems.of(HttpStatus.BAD_REQUEST,
					"from must be before to, at most " + StopStats.RETENTION.toDays() + " days apart.");
		}
		if (!granularity.equals("hour") && !granularity.equals("day")) {
			throw Problems.of(HttpStatus.BAD_REQUEST, "granularity must be hour or day.");
		}
		List<Bucket> buckets = granularity.equals("day") ? days(stats.hours(start, end)) : stats.hours(start, end);
		Bucket total = buckets.stream().reduce(Bucket::merge).orElse(new Bucket(start, Map.of()));
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("from", start);
		body.put("to", end);
		body.put("granularity", granularity);
		body.put("buckets", buckets.stream().map(StopReport::of).toList());
		body.put("total", StopReport.of(total));
		return body;
	}

	private static List<Bucket> days(List<Bucket> hours) {
		Map<Instant, Bucket> days = new LinkedHashMap<>();
		hours.forEach(hour -> days.merge(hour.start().truncatedTo(ChronoUnit.DAYS),
				new Bucket(hour.start().truncatedTo(ChronoUnit.DAYS), hour.counters()), Bucket::merge));
		return new ArrayList<>(days.values());
	}

	/**
	 * One bucket as operators read it. Success: the owner confirmed (or the run was
	 * already stopped); failure: not confirmed in time, or an error.
	 */
	record StopReport(Instant start, long stops, long confirmed, long requested, long alreadyStopped, long notFound,
			long rateLimited, long errors, double successRate, double failureRate, long runsEnded, long runsCompleted,
			long runsStopped, long runsStoppedByUser, long runsFailed, long runsInterrupted, double stoppedByUserShare,
			double avgSecondsBeforeStop, double p95SecondsBeforeStop) {

		static StopReport of(Bucket b) {
			long confirmed = b.get("stop:confirmed");
			long requested = b.get("stop:requested");
			long already = b.get("stop:already_stopped");
			long notFound = b.get("stop:not_found");
			long limited = b.get("stop:rate_limited");
			long errors = b.get("stop:error");
			long stops = confirmed + requested + already + notFound + limited + errors;
			long answered = confirmed + already + requested + errors;
			long ended = b.get("run:ended");
			long stoppedCount = b.get("before_stop:count");
			return new StopReport(b.start(), stops, confirmed, requested, already, notFound, limited, errors,
					ratio(confirmed + already, answered), ratio(requested + errors, answered), ended,
					b.get("run:complete"), b.get("run:stopped"), b.get("run:stopped_by_user"), b.get("run:failed"),
					b.get("run:interrupted"), ratio(b.get("run:stopped_by_user"), ended),
					stoppedCount == 0 ? 0 : b.get("before_stop:sum_ms") / 1000.0 / stoppedCount,
					b.beforeStopQuantileMs(0.95) / 1000.0);
		}

		private static double ratio(long part, long whole) {
			return whole == 0 ? 0 : (double) part / whole;
		}

	}

}
