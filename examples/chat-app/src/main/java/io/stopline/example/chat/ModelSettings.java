package io.stopline.example.chat;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The model the app talks to ({@code chat.model.*}): any OpenAI-compatible server.
 *
 * @param baseUrl the server's API root, e.g. {@code https://api.openai.com/v1}
 * @param apiKey its key
 * @param name the model
 */
@ConfigurationProperties("chat.model")
record ModelSettings(@DefaultValue("http://127.0.0.1:11434/v1") String baseUrl, @DefaultValue("none") String apiKey,
		@DefaultValue("gpt-4o-mini") String name) {
}
