package io.stopline.example.chat;

import java.time.Duration;

import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;

/**
 * The app's own parts: its model, its {@link ChatClient}, and its security (HTTP basic
 * with two demo users). The starter's stop endpoints sit behind this security and take
 * the authenticated user's name as the user id.
 */
@Configuration(proxyBeanMethods = false)
class ChatConfiguration {

	@Bean
	ChatClient chatClient(ModelSettings model) {
		OpenAiChatModel chatModel = OpenAiChatModel.builder()
			.options(OpenAiChatOptions.builder()
				.baseUrl(model.baseUrl())
				.apiKey(model.apiKey())
				.model(model.name())
				.timeout(Duration.ofMinutes(5))
				.maxRetries(0)
				.build())
			.build();
		return ChatClient.create(chatModel);
	}

	@Bean
	SecurityFilterChain security(HttpSecurity http) throws Exception {
		return http.authorizeHttpRequests(requests -> requests.anyRequest().authenticated())
			.httpBasic(Customizer.withDefaults())
			// an API for programs, with no cookies
			.csrf(csrf -> csrf.disable())
			.build();
	}

	/** Demo users; a real app brings its own identity provider. */
	@Bean
	UserDetailsService users() {
		return new InMemoryUserDetailsManager(User.withUsername("alice").password("{noop}alice").roles("USER").build(),
				User.withUsername("bob").password("{noop}bob").roles("USER").build());
	}

}
