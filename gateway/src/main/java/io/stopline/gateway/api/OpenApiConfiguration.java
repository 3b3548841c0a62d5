package io.stopline.gateway.api;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.ExternalDocumentation;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import org.springdoc.core.customizers.OpenApiCustomizer;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The description's frame: title, the bearer scheme every {@code /v1} operation needs,
 * and the responses of each operation from {@code openapi/responses.json}
 * ({@link ApiDescription}). Only when the description is served.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "springdoc.api-docs.enabled", havingValue = "true")
class OpenApiConfiguration {

	static final String BEARER = "bearer";

	@Bean
	OpenAPI stoplineOpenApi() {
		return new OpenAPI().info(new Info().title("Stopline gateway API").version("v1").description("""
				Chat runs that can be stopped from anywhere: start a run (OpenAI-compatible), stop it, \
				stop all, list what runs, read the history. Every error is an RFC 9457 problem detail \
				(application/problem+json). The live events of a conversation travel over the WebSocket \
				/v1/conversation/{conversationId}/stream; their JSON schema is /api/stream-events.schema.json."""))
			.externalDocs(new ExternalDocumentation().description("WebSocket events (JSON Schema 2020-12)")
				.url("/api/stream-events.schema.json"))
			.components(new Components().addSecuritySchemes(BEARER,
					new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer").bearerFormat("JWT")))
			.addSecurityItem(new SecurityRequirement().addList(BEARER));
	}

	@Bean
	OpenApiCustomizer stoplineResponses() {
		return ApiDescription.fromClassPath()::applyTo;
	}

}
