package io.stopline.gateway.stream;

import io.stopline.gateway.GatewayProperties;

import org.springframework.context.annotation.Configuration;
import org.springframework.web.socket.config.annotation.EnableWebSocket;
import org.springframework.web.socket.config.annotation.WebSocketConfigurer;
import org.springframework.web.socket.config.annotation.WebSocketHandlerRegistry;

/**
 * Registers the conversation stream. Origins: the gateway's own, plus
 * {@code stopline.gateway.allowed-origins}; a handshake from any other browser origin is
 * refused (403), so another site cannot open a socket with a user's token.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebSocket
class StreamConfiguration implements WebSocketConfigurer {

	private final ConversationStreamHandler handler;

	private final StreamAuthInterceptor auth;

	private final GatewayProperties properties;

	StreamConfiguration(ConversationStreamHandler handler, StreamAuthInterceptor auth, GatewayProperties properties) {
		this.handler = handler;
		this.auth = auth;
		this.properties = properties;
	}

	@Override
	public void registerWebSocketHandlers(WebSocketHandlerRegistry registry) {
		// with no patterns, Spring allows the same origin only
		registry.addHandler(handler, "/v1/conversation/*/stream")
			.addInterceptors(auth)
			.setAllowedOriginPatterns(properties.allowedOrigins().toArray(String[]::new));
	}

}
