package io.stopline.worker.agent;

import io.stopline.protocol.StartRun;
import io.stopline.starter.task.JobTaken;
import io.stopline.starter.task.TaskRunner;
import io.stopline.worker.tool.ToolLoop;

import org.springframework.stereotype.Component;

/** Starts a queued job as a run of its agent, on the starter's engine. */
@Component
public class AgentRuns {

	private final TaskRunner runner;

	private final ToolLoop loop;

	public AgentRuns(TaskRunner runner, ToolLoop loop) {
		this.runner = runner;
		this.loop = loop;
	}

	/** See {@link TaskRunner#start}. */
	public void start(StartRun job, JobTaken onTaken, Runnable onEnd) {
		runner.start(job, new AgentGeneration(loop), onTaken, onEnd);
	}

}
