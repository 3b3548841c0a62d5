package io.stopline.worker.tool;

import io.stopline.protocol.ToolCallRecord;
import io.stopline.worker.model.ToolRequest;

/** What the tool loop tells the run it belongs to, and where it waits for it. */
public interface ToolRunHooks {

	/**
	 * Before each model turn that follows tool calls: waits while the run is paused;
	 * throws once it is stopping.
	 */
	void beforeModelTurn() throws InterruptedException;

	/** A call is about to be sent. */
	void callStarted(int index, ToolRequest request);

	/** A call ended, or was refused; not called for calls cancelled by a stop. */
	void callFinished(int index, ToolCallRecord record);

}
