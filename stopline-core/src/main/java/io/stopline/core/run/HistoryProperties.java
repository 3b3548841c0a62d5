package io.stopline.core.run;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How much history a conversation keeps ({@code stopline.history.*}).
 *
 * @param maxMessages the most messages a conversation's history holds when a new message
 * is added: the first (its title) and the newest; older ones are dropped in the same
 * script that appends (a run's outcome adds at most two more until the next message). At
 * least 4; 0 keeps everything.
 */
@ConfigurationProperties("stopline.history")
public record HistoryProperties(@DefaultValue("1000") int maxMessages) {

	public HistoryProperties {
		if (maxMessages != 0 && maxMessages < 4) {
			throw new IllegalArgumentException("stopline.history.max-messages must be 0 (no limit) or at least 4");
		}
	}

}
