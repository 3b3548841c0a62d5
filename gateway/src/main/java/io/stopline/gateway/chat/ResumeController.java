package io.stopline.gateway.chat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.http.HttpServletResponse;
import io.stopline.gateway.stream.StreamTicket;
import io.stopline.gateway.stream.StreamTickets;
import io.stopline.gateway.system.Problems;
import io.stopline.protocol.RunEvent;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /v1/conversation/{id}/runs/{runId}/stream}: a run's chat stream again, from
 * after the token index the client holds ({@code Last-Event-ID: <run id>:<index>}, or
 * {@code ?starting_after=<index>}; from the start without either), in the same chunks,
 * then live until the run's end and {@code [DONE]}. The caller is the bearer token's
 * subject, or a stream ticket's ({@code ?ticket=}, single use, for this conversation),
 * since {@code EventSource} cannot send a header.
 */
@RestController
class ResumeController {

	private static final Logger log = LoggerFactory.getLogger(ResumeController.class);

	private final RunResumes resumes;

	private final ChatService chats;

	private final StreamTickets tickets;

	private final JsonMapper mapper;

	ResumeController(RunResumes resumes, ChatService chats, StreamTickets tickets, JsonMapper mapper) {
		this.resumes = resumes;
		this.chats = chats;
		this.tickets = tickets;
		this.mapper = mapper;
	}

	@GetMapping("/v1/conversation/{conversationId}/runs/{runId}/stream")
	void resume(@AuthenticationPrincipal @Nullable Jwt jwt, @PathVariable String conversationId,
			@PathVariable String runId, @RequestParam(name = "starting_after", required = false) @Nullable String after,
			@RequestParam(required = false) @Nullable String ticket,
			@RequestHeader(name = "Last-Event-ID", required = false) @Nullable String lastEventId,
			HttpServletResponse response) throws IOException {
		if (jwt == null && ticket == null) {
			throw Problems.of(HttpStatus.UNAUTHORIZED, "A valid bearer token or stream ticket is required.");
		}
		Problems.requireConversationId(conversationId);
		Problems.requireRunId(runId, "Invalid run id");
		int index = index(runId, lastEventId, after);
		String user = caller(jwt, ticket, conversationId);
		try (RunResumes.Resumption resumption = resumes.open(user, conversationId, runId, index)) {
			response.setStatus(HttpStatus.OK.value());
			response.setHeader("Cache-Control", "no-cache");
			response.setContentType(MediaType.TEXT_EVENT_STREAM_VALUE);
			response.setCharacterEncoding(StandardCharsets.UTF_8.name());
			try {
				stream(resumption, index, response);
			}
			catch (IOException ex) {
				log.debug("client of resumed run {} left: {}", runId, ex.toString());
			}
		}
	}

	/** The role chunk, the text the client missed, then the events as they come. */
	private void stream(RunResumes.Resumption resumption, int index, HttpServletResponse response) throws IOException {
		ChatSession session = resumption.session();
		SseWriter sse = new SseWriter(response.getOutputStream(), mapper, session.run());
		TokenOrder tokens = resumption.tokens();
		sse.at(index);
		sse.event(ChatChunks.delta(session.run(), "assistant", ""));
		if (!resumption.replay().isEmpty()) {
			sse.at(tokens.next());
			sse.delta(resumption.replay());
		}
		boolean ended = false;
		for (RunEvent event : resumption.pending()) {
			if (!ended) {
				ended = ChunkStream.write(sse, tokens, event);
			}
		}
		sse.flush();
		if (!ended) {
			ChunkStream.relay(session, sse, tokens, chats::next);
		}
	}

	/**
	 * The index the client holds: {@code Last-Event-ID} (what {@code EventSource} sends
	 * on its own reconnect) over {@code starting_after}; 0 without either.
	 */
	private static int index(String runId, @Nullable String lastEventId, @Nullable String after) {
		if (lastEventId != null) {
			int colon = lastEventId.lastIndexOf(':');
			Integer index = colon < 0 ? null : RunResumes.parseIndex(lastEventId.substring(colon + 1));
			if (index == null || !lastEventId.substring(0, colon).equals(runId)) {
				throw Problems.of(HttpStatus.BAD_REQUEST,
						"Last-Event-ID must be an event id of this run: " + runId + ":<index>.");
			}
			return index;
		}
		if (after != null) {
			Integer index = RunResumes.parseIndex(after);
			if (index == null) {
				throw Problems.of(HttpStatus.BAD_REQUEST, "starting_after must be a token index (0 or more).");
			}
			return index;
		}
		return 0;
	}

	/** The bearer token's subject, else the ticket's user (the ticket is spent). */
	private String caller(@Nullable Jwt jwt, @Nullable String ticket, String conversationId) {
		if (jwt != null) {
			return jwt.getSubject();
		}
		if (ticket != null) {
			return tickets.take(ticket)
				.filter(taken -> taken.conversation().equals(conversationId))
				.map(StreamTicket::user)
				.orElseThrow(() -> Problems.of(HttpStatus.UNAUTHORIZED,
						"The ticket is unknown, expired, already used or for another conversation."));
		}
		throw new IllegalStateException("neither a token nor a ticket");
	}

}
