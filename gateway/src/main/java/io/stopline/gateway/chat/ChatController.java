package io.stopline.gateway.chat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import jakarta.validation.Valid;
import io.stopline.gateway.system.Problems;
import io.stopline.protocol.RunEvent;
import io.stopline.registry.RunRecord;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;

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

	@PostMapping("/v1/chat/completions")
	ResponseEntity<StreamingResponseBody> complete(@AuthenticationPrincipal Jwt jwt,
			@Valid @RequestBody ChatRequest request,
			@RequestHeader(name = CONVERSATION_HEADER, required = false) @Nullable String conversationHeader)
			throws InterruptedException {
		ChatSession session = chats.start(jwt.getSubject(), request, conversationHeader);
		ResponseEntity.BodyBuilder ok = ResponseEntity.ok().header(CONVERSATION_HEADER, session.conversationId());
		if (request.streaming()) {
			StreamingResponseBody body = out -> stream(session, out);
			return ok.contentType(MediaType.TEXT_EVENT_STREAM).header("Cache-Control", "no-cache").body(body);
		}
		// Declared as a streaming body either way (MVC picks the handler by declared
		// type); a non-streaming
		// answer is complete before the status is sent, so a failed run can still answer
		// 502.
		byte[] completion;
		try {
			completion = mapper.writeValueAsBytes(collect(session));
		}
		finally {
			chats.end(session);
		}
		return ok.contentType(MediaType.APPLICATION_JSON).body(out -> out.write(completion));
	}

	private void stream(ChatSession session, OutputStream out) throws IOException {
		RunRecord run = session.run();
		try {
			send(out, ChatChunks.delta(run, "assistant", ""));
			RunEvent event;
			do {
				event = next(session);
				switch (event) {
					case RunEvent.TokenGenerated token -> send(out, ChatChunks.delta(run, null, token.text()));
					case RunEvent.RunCompleted completed -> send(out, ChatChunks.finish(run, "stop"));
					case RunEvent.RunStopped stopped -> send(out, ChatChunks.finish(run, ChatChunks.CANCELLED));
					case RunEvent.RunFailed failed -> send(out, ChatChunks.StreamError.of(failed.error()));
					default -> {
					}
				}
			}
			while (!event.isTerminal());
			out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
			out.flush();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		finally {
			chats.end(session);
		}
	}

	private ChatChunks.Completion collect(ChatSession session) throws InterruptedException {
		RunEvent event;
		do {
			event = next(session);
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

	/**
	 * The next event; when none comes for a while, checks whether the run ended without
	 * us hearing.
	 */
	private RunEvent next(ChatSession session) throws InterruptedException {
		while (true) {
			RunEvent event = session.poll(chats.recoveryInterval());
			if (event != null) {
				return event;
			}
			try {
				Optional<RunEvent> recovered = chats.recoverEnd(session);
				if (recovered.isPresent()) {
					return recovered.get();
				}
			}
			catch (RuntimeException ex) {
				// Redis unreachable: keep the client's stream open; the inbox
				// resubscribes when Redis is back
				log.debug("run check failed for {}: {}", session.run().runId(), ex.toString());
			}
		}
	}

	private void send(OutputStream out, Object payload) throws IOException {
		out.write(("data: " + mapper.writeValueAsString(payload) + "\n\n").getBytes(StandardCharsets.UTF_8));
		out.flush();
	}

}
