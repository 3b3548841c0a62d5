package io.stopline.starter.task;

import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.run.ConversationRegistry.Restore;
import io.stopline.core.run.RunRecord;
import io.stopline.protocol.StopReason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-checks every local run against Redis after this worker lost touch with it (its
 * heartbeat had lapsed, or Redis came back empty): runs Redis forgot are registered
 * again, runs that were reaped or replaced meanwhile are stopped here, so nothing keeps
 * generating for a run nobody owns.
 */
public class RunRevalidator {

	private static final Logger log = LoggerFactory.getLogger(RunRevalidator.class);

	private final LocalTaskRegistry tasks;

	private final ConversationRegistry registry;

	RunRevalidator(LocalTaskRegistry tasks, ConversationRegistry registry) {
		this.tasks = tasks;
		this.registry = registry;
	}

	public void revalidate() {
		int restored = 0;
		int dropped = 0;
		for (RunningTask task : tasks.list()) {
			RunRecord record = task.record();
			if (record == null) {
				continue;
			}
			Restore restore = registry.restore(record, AskedMessage.of(task.job()));
			if (restore == Restore.RESTORED) {
				restored++;
			}
			else if (restore == Restore.SUPERSEDED || restore == Restore.ENDED) {
				task.requestStop(StopReason.LOST);
				dropped++;
			}
		}
		log.info("revalidated local runs: {} restored, {} stopped as lost, {} total", restored, dropped, tasks.size());
	}

}
