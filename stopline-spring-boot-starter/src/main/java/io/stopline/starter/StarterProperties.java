package io.stopline.starter;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The starter's switches and its stop requests ({@code stopline.starter.*}); the runs
 * themselves are set with {@code stopline.worker.*} ({@link WorkerProperties}).
 *
 * @param enabled false turns the starter off (a gateway sharing the class path)
 * @param stopConfirmTimeout how long {@link Stopline#stop} waits for the owner's
 * confirmation before answering {@link StopResult#REQUESTED}
 * @param tombstoneTtl how long a stop for a run id that has not started is kept: a run
 * registered with that id within it never starts
 * @param web the optional stop endpoints
 */
@ConfigurationProperties("stopline.starter")
public record StarterProperties(@DefaultValue("true") boolean enabled, @DefaultValue("5s") Duration stopConfirmTimeout,
		@DefaultValue("60s") Duration tombstoneTtl, @DefaultValue Web web) {

	/**
	 * @param enabled true exposes {@code POST /v1/conversation/{id}/stop},
	 * {@code POST /v1/conversations/stop} and {@code GET /v1/conversations/active} for
	 * the authenticated user (the application's own security decides who that is)
	 */
	public record Web(@DefaultValue("false") boolean enabled) {
	}

}
