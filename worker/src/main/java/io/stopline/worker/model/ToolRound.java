package io.stopline.worker.model;

import java.util.List;

/**
 * One round of the tool loop: the calls the model asked for and their results, in the
 * same order, as the model reads them on its next turn.
 */
public record ToolRound(List<ToolRequest> requests, List<String> results) {

	public ToolRound {
		requests = List.copyOf(requests);
		results = List.copyOf(results);
		if (requests.size() != results.size()) {
			throw new IllegalArgumentException("a tool round needs one result per request");
		}
	}

}
