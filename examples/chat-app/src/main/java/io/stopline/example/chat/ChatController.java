package io.stopline.example.chat;

import java.security.Principal;

import io.stopline.starter.RunRequest;
import io.stopline.starter.Stopline;
import reactor.core.publisher.Flux;

import org.springframework.ai.chat.client.ChatClient;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * Streams the model's answer as server-sent events. The one line that makes it stoppable
 * from any replica: the stream goes through {@link Stopline#run}.
 */
@RestController
class ChatController {

	private final ChatClient chat;

	private final Stopline stopline;

	ChatController(ChatClient chat, Stopline stopline) {
		this.chat = chat;
		this.stopline = stopline;
	}

	@PostMapping(path = "/chat/{conversationId}", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
	Flux<String> chat(Principal user, @PathVariable String conversationId, @RequestBody Message message) {
		Flux<String> answer = chat.prompt().user(message.text()).stream().content();
		return stopline.run(RunRequest.of(conversationId, user.getName(), "assistant", message.text()), answer);
	}

	/** What the user says. */
	record Message(String text) {
	}

}
