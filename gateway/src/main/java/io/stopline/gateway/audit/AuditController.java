package io.stopline.gateway.audit;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.stopline.gateway.system.Problems;
import io.stopline.core.ops.StopAudit;
import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /v1/admin/audit/stops?user=&since=&limit=} (admin): the audited stops,
 * newest first.
 */
@RestController
class AuditController {

	private static final int MAX_LIMIT = 1000;

	private final StopAudit audit;

	AuditController(StopAudit audit) {
		this.audit = audit;
	}

	@GetMapping("/v1/admin/audit/stops")
	Map<String, List<StopAudit.Entry>> stops(@RequestParam(required = false) @Nullable String user,
			@RequestParam(required = false) @Nullable Instant since, @RequestParam(defaultValue = "100") int limit) {
		if (limit < 1 || limit > MAX_LIMIT) {
			throw Problems.of(HttpStatus.BAD_REQUEST, "limit must be between 1 and " + MAX_LIMIT + ".");
		}
		return Map.of("stops", audit.read(user, since, limit));
	}

}
