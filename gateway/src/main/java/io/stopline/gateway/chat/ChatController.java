package io.stopline.gateway.chat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.http.HttpServletResponse;
import jakarta.validation.Valid;
import io.stopline.gateway.system.Problems;
import io.stopline.protocol.RunEvent;
import io.stopline.core.run.RunRecord;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /v1/chat/completions}, OpenAI compatible. A stopped run ends cleanly: the
 * streaming client gets a final chunk with {@code finish_reason: "cancelled"} and
 * {@code [DONE]}; the non-streaming one the partial answer.
 */
@RestController
class ChatController {

	private static final Logger log = LoggerFactory.getLogger(ChatController.class);

	static final String CONVERSATION_HEADER = "X-Conversation-Id";

	private final ChatService chats;

	private final JsonMapper mapper;

	ChatController(ChatService chats, JsonMapper mapper) {
		this.chats = chats;
		this.mapper = mapper;
	}

	/**
	 * Written straight to the servlet response on the request's (virtual) thread,
	 * flushing after every event, so each token reaches the client the moment it arrives;
	 * errors before the first byte are still problem details.
	 */
	@PostMapping("/v1/chat/completions")
	void complete(@AuthenticationPrincipal Jwt jwt, @Valid @RequestBody ChatRequest request,
			@RequestHeader(name = CONVERSATION_HEADER, required = false) @Nullable String conversationHeader,
			@RequestHeader(name = "Idempotency-Key", required = false) @Nullable String idempotencyKey,
			HttpServletResponse response) throws IOException, InterruptedException {
		ChatSession session = chats.start(jwt.getSubject(), request, conversationHeader, idempotencyKey);
		try {
			if (request.streaming()) {
				response.setStatus(HttpStatus.OK.value());
				response.setHeader(CONVERSATION_HEADER, session.conversationId());
				response.setHeader("Cache-Control", "no-cache");
				response.setContentType(MediaType.TEXT_EVENT_STREAM_VALUE);
				response.setCharacterEncoding(StandardCharsets.UTF_8.name());
				try {
					stream(session, response);
				}
				catch (IOException ex) {
					// the client left (the page does so on purpose once the run is
					// reserved): the run goes on, nothing to answer
					log.debug("client of run {} left the stream: {}", session.run().runId(), ex.toString());
				}
				return;
			}
			// a non-streaming answer is complete before the status is sent, so a failed
			// run can still answer 502
			byte[] completion = mapper.writeValueAsBytes(collect(session));
			response.setStatus(HttpStatus.OK.value());
			response.setHeader(CONVERSATION_HEADER, session.conversationId());
			response.setContentType(MediaType.APPLICATION_JSON_VALUE);
			response.getOutputStream().write(completion);
		}
		finally {
			chats.end(session);
		}
	}

	/**
	 * The role chunk, then the run's events as they come (see {@link ChunkStream}).
	 */
	private void stream(ChatSession session, HttpServletResponse response) throws IOException {
		SseWriter sse = new SseWriter(response.getOutputStream(), mapper, session.run());
		sse.event(ChatChunks.delta(session.run(), "assistant", ""));
		sse.flush();
		ChunkStream.relay(session, sse, new TokenOrder(), chats::next);
	}

	private ChatChunks.Completion collect(ChatSession session) throws InterruptedException {
		RunEvent event;
		do {
			event = chats.next(session);
		}
		while (!event.isTerminal());
		RunRecord run = session.run();
		return switch (event) {
			case RunEvent.RunCompleted done -> ChatChunks.completion(run, done.content(), "stop", done.tokens());
			case RunEvent.RunStopped stopped ->
				ChatChunks.completion(run, stopped.content(), ChatChunks.CANCELLED, stopped.tokens());
			case RunEvent.RunFailed failed -> throw Problems.of(HttpStatus.BAD_GATEWAY, failed.error());
			default -> throw new IllegalStateException("not terminal: " + event);
		};
	}

}
