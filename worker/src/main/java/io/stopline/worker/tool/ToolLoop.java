package io.stopline.worker.tool;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

import io.stopline.protocol.StartRun;
import io.stopline.protocol.ToolCallRecord;
import io.stopline.worker.model.ChatModel;
import io.stopline.worker.model.ModelFailure;
import io.stopline.worker.model.ToolDefinition;
import io.stopline.worker.model.ToolRequest;
import io.stopline.worker.model.ToolRound;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.stereotype.Component;

/**
 * A run's conversation with its model and its tools: the model asks for calls, the worker
 * makes them (a turn's calls in parallel), the results go back, until the model answers.
 * Runs on the run's thread; a stop interrupts it, wherever it waits.
 * <p>
 * A stop during calls cancels each call still without a result, the way MCP says:
 * {@code notifications/cancelled} with its request id and a fixed reason (on stdio the
 * only way; on Streamable HTTP too, in the run's own session), and on Streamable HTTP the
 * run's session is then closed, which closes the calls' response streams. None of it is
 * waited for: a server that never answers does not hold the run.
 */
@Component
public class ToolLoop {

	/**
	 * How long the cancel notifications of a stopped run may take before its HTTP
	 * sessions close.
	 */
	private static final Duration NOTIFY_BOUND = Duration.ofMillis(250);

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private final McpTools tools;

	private final ChatModel model;

	private final int maxRounds;

	ToolLoop(McpTools tools, ChatModel model, ToolProperties properties) {
		this.tools = tools;
		this.model = model;
		this.maxRounds = properties.maxRounds();
	}

	/** A loop with no tool servers: the model's answer, as it streams. */
	public static ToolLoop without(ChatModel model) {
		return new ToolLoop(new McpTools(new ToolProperties(null, null, 1)), model, new ToolProperties(null, null, 1));
	}

	/** Streams the run's answer to {@code sink}, calling tools on the way. */
	public void run(StartRun job, ChatModel.TokenSink sink, ToolRunHooks hooks, ToolCallLog log)
			throws InterruptedException {
		List<McpTools.Binding> offered = tools.offered(job.agentName());
		if (offered.isEmpty()) {
			model.generate(job, sink);
			return;
		}
		List<ToolDefinition> definitions = offered.stream().map(McpTools.Binding::definition).toList();
		List<ToolRound> rounds = new ArrayList<>();
		Map<McpServerConnection, McpServerConnection.Session> sessions = new LinkedHashMap<>();
		try {
			while (true) {
				if (!rounds.isEmpty()) {
					hooks.beforeModelTurn();
				}
				List<ToolRequest> requests = model.respond(job, definitions, rounds, sink);
				if (requests.isEmpty()) {
					return;
				}
				if (rounds.size() >= maxRounds) {
					throw new ModelFailure("The model kept calling tools past the limit of " + maxRounds + " rounds.");
				}
				rounds.add(new ToolRound(requests, new Round(offered, sessions, hooks, log).call(requests)));
			}
		}
		finally {
			sessions.values()
				.stream()
				.filter(session -> !session.isShared())
				.forEach(McpServerConnection.Session::close);
		}
	}

	/** One turn's calls, made in parallel, and their results in the model's order. */
	private static final class Round {

		private final List<McpTools.Binding> offered;

		private final Map<McpServerConnection, McpServerConnection.Session> sessions;

		private final ToolRunHooks hooks;

		private final ToolCallLog log;

		private final BlockingQueue<PendingCall> ended = new LinkedBlockingQueue<>();

		private final List<PendingCall> calls = new ArrayList<>();

		private final Map<PendingCall, Integer> positions = new HashMap<>();

		Round(List<McpTools.Binding> offered, Map<McpServerConnection, McpServerConnection.Session> sessions,
				ToolRunHooks hooks, ToolCallLog log) {
			this.offered = offered;
			this.sessions = sessions;
			this.hooks = hooks;
			this.log = log;
		}

		List<String> call(List<ToolRequest> requests) throws InterruptedException {
			String[] results = new String[requests.size()];
			try {
				for (int i = 0; i < requests.size(); i++) {
					results[i] = start(i, requests.get(i));
				}
				for (int taken = 0; taken < calls.size(); taken++) {
					PendingCall call = ended.take();
					ToolCallRecord record = finished(call);
					results[positions.get(call)] = call.result();
					failRunIfConfigured(call.session(), record);
				}
			}
			catch (InterruptedException | RuntimeException ex) {
				cancelAll();
				throw ex;
			}
			return Arrays.asList(results);
		}

		/**
		 * Starts the call; returns its result now when it is refused or cannot be made,
		 * else null (it comes with the call's end).
		 */
		private @Nullable String start(int position, ToolRequest request) throws InterruptedException {
			int index = log.nextIndex();
			Optional<McpTools.Binding> binding = McpTools.find(offered, request.name());
			if (binding.isEmpty()) {
				return refused(index, request, ToolCallRecord.Status.REFUSED,
						"Error: no tool named " + request.name() + " is available.");
			}
			Map<String, Object> arguments = arguments(request);
			if (arguments == null) {
				return refused(index, request, ToolCallRecord.Status.FAILED,
						"Error: the arguments must be a JSON object.");
			}
			// a stop that came first: this call is never made
			if (Thread.currentThread().isInterrupted()) {
				throw new InterruptedException();
			}
			McpServerConnection.Session session;
			try {
				session = sessions.computeIfAbsent(binding.get().server(), McpServerConnection::sessionForRun);
			}
			catch (RuntimeException ex) {
				if (Thread.currentThread().isInterrupted() || ex.getCause() instanceof InterruptedException) {
					throw new InterruptedException();
				}
				String error = refused(index, request, ToolCallRecord.Status.FAILED,
						"Error: the tool's server could not be reached.");
				failRunIfConfigured(binding.get().server(), ToolCallRecord.Status.FAILED);
				return error;
			}
			hooks.callStarted(index, request);
			PendingCall call = new PendingCall(index, request, binding.get(), session);
			calls.add(call);
			positions.put(call, position);
			call.start(arguments, binding.get().server().server().callTimeout(), ended::add);
			return null;
		}

		private String refused(int index, ToolRequest request, ToolCallRecord.Status status, String result) {
			ToolCallRecord record = new ToolCallRecord(request.id(), request.name(), request.arguments(), status, 0, 0);
			log.record(index, record, "");
			hooks.callFinished(index, record);
			return result;
		}

		private ToolCallRecord finished(PendingCall call) {
			ToolCallRecord record = call.record();
			log.record(call.index(), record, call.result());
			hooks.callFinished(call.index(), record);
			return record;
		}

		private void failRunIfConfigured(McpServerConnection.Session session, ToolCallRecord record) {
			if (record.status() != ToolCallRecord.Status.COMPLETED) {
				failRunIfConfigured(session.connection(), record.status());
			}
		}

		private static void failRunIfConfigured(McpServerConnection server, ToolCallRecord.Status status) {
			if (server.server().onFailure() == ToolProperties.OnFailure.END_RUN) {
				throw new ModelFailure(
						status == ToolCallRecord.Status.TIMED_OUT ? "A tool call timed out." : "A tool call failed.");
			}
		}

		/**
		 * Cancels every call still without a result and records each call as it stands:
		 * {@code cancelled_before_result}, or what it ended with.
		 */
		private void cancelAll() {
			Map<McpServerConnection.Session, List<Mono<Void>>> notices = new LinkedHashMap<>();
			for (PendingCall call : calls) {
				Mono<Void> notice = call.cancel();
				if (notice != null) {
					notices.computeIfAbsent(call.session(), session -> new ArrayList<>()).add(notice);
				}
				log.record(call.index(), call.record(), call.result());
			}
			notices.forEach((session, sent) -> {
				Mono<Void> all = Mono.when(sent).timeout(NOTIFY_BOUND).onErrorComplete();
				if (!session.isShared()) {
					sessions.remove(session.connection());
					all = all.doFinally(signal -> session.close());
				}
				all.subscribe();
			});
		}

	}

	@SuppressWarnings("unchecked")
	private static @Nullable Map<String, Object> arguments(ToolRequest request) {
		try {
			Object parsed = JSON.readValue(request.arguments().isBlank() ? "{}" : request.arguments(), Object.class);
			return parsed instanceof Map<?, ?> map ? (Map<String, Object>) map : null;
		}
		catch (JacksonException ex) {
			return null;
		}
	}

}
