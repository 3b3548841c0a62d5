package io.stopline.protocol;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * The stages of one stop, each when it happened: what a 200 stop answer, the
 * {@code run_stopped} event and the audit entry report.
 *
 * @param requestedAt the stop was asked for (at the gateway that took the request)
 * @param deliveredAt the run's owner got it (absent for a run still queued, which the
 * gateway ends itself)
 * @param upstreamClosedAt the connection to the model provider was closed (absent for the
 * simulated model, and where the provider's client closes it off the run's thread)
 * @param persistedAt the owner began writing the partial answer: stamped just before the
 * events that carry it are encoded and the one script writes them and sends the
 * confirmation (the confirmation carries this receipt, so it cannot be stamped after)
 */
public record StopReceipt(Instant requestedAt, @Nullable Instant deliveredAt, @Nullable Instant upstreamClosedAt,
		Instant persistedAt) {
}
