package io.stopline.gateway.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.swagger.v3.core.util.Json31;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;

/**
 * What springdoc cannot see in the controllers: the statuses each operation answers and
 * the shape of each body (most controllers return maps), from
 * {@code openapi/responses.json}. Every operation also gets the problem details every
 * endpoint can answer: 401 (unless it needs no token) and 500. The WebSocket stream,
 * which is no controller, is described here too.
 */
final class ApiDescription {

	static final String PROBLEM_JSON = "application/problem+json";

	private final JsonNode document;

	private ApiDescription(JsonNode document) {
		this.document = document;
	}

	static ApiDescription fromClassPath() {
		try (InputStream in = ApiDescription.class.getResourceAsStream("/openapi/responses.json")) {
			if (in == null) {
				throw new IllegalStateException("openapi/responses.json is missing from the class path");
			}
			return new ApiDescription(Json31.mapper().readTree(in));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	void applyTo(OpenAPI api) {
		Components components = api.getComponents() == null ? new Components() : api.getComponents();
		api.setComponents(components);
		for (Iterator<Map.Entry<String, JsonNode>> it = document.get("schemas").fields(); it.hasNext();) {
			Map.Entry<String, JsonNode> schema = it.next();
			components.addSchemas(schema.getKey(), Json31.mapper().convertValue(schema.getValue(), Schema.class));
		}
		if (api.getPaths() != null) {
			api.getPaths().forEach((path, item) -> item.readOperationsMap().forEach((method, operation) -> {
				JsonNode spec = document.get("operations").get(method + " " + path);
				if (spec != null) {
					describe(operation, spec);
				}
			}));
			api.getPaths().addPathItem("/v1/conversation/{conversationId}/stream", stream());
		}
	}

	private static void describe(Operation operation, JsonNode spec) {
		operation.setSummary(spec.get("summary").asText());
		ApiResponses responses = new ApiResponses();
		spec.get("responses").fields().forEachRemaining(status -> {
			JsonNode value = status.getValue();
			responses.addApiResponse(status.getKey(), value.isTextual() ? problem(value.asText()) : body(value));
		});
		boolean authenticated = spec.path("authenticated").asBoolean(true);
		if (authenticated) {
			responses.addApiResponse("401", problem("no valid bearer token"));
		}
		else {
			operation.setSecurity(List.of());
		}
		responses.addApiResponse("500", problem("unexpected error (nothing internal is named)"));
		operation.setResponses(responses);
	}

	private static ApiResponse body(JsonNode value) {
		// an operation that only streams names no JSON body
		Content content = new Content();
		if (value.has("schema")) {
			content.addMediaType("application/json", new MediaType().schema(ref(value.get("schema").asText())));
		}
		if (value.has("events")) {
			content.addMediaType("text/event-stream", new MediaType().schema(new StringSchema()
				.description("data: <" + value.get("events").asText() + " as JSON> lines, ending with data: [DONE]")
				.contentMediaType("application/json")
				.contentSchema(ref(value.get("events").asText()))));
		}
		return new ApiResponse().description(value.get("description").asText()).content(content);
	}

	static ApiResponse problem(String description) {
		return new ApiResponse().description(description)
			.content(new Content().addMediaType(PROBLEM_JSON, new MediaType().schema(ref("Problem"))));
	}

	private static Schema<?> ref(String name) {
		return new Schema<>().$ref("#/components/schemas/" + name);
	}

	/**
	 * The WebSocket handshake, as far as OpenAPI can say it; the events are in the schema
	 * beside it.
	 */
	private static PathItem stream() {
		Operation get = new Operation().operationId("conversationStream")
			.summary("WebSocket: the state of a conversation, then every event of its runs")
			.description("""
					Upgrade to a WebSocket (authenticate with the Authorization header, or ?token= from a browser). \
					The first message is {"type":"state",…}; then token, run_started, run_snapshot, run_paused, \
					run_resumed, run_stopped, run_completed, run_failed and message_added events, each a JSON \
					text frame described by /api/stream-events.schema.json. A conversation with no message yet \
					gets a state without messages, then its events once its first run starts (conversation ids \
					are the caller's own: another user's is a different conversation). A bad token or an invalid \
					id closes the socket with 1008.""")
			.addParametersItem(
					new Parameter().in("path").name("conversationId").required(true).schema(new StringSchema()))
			.addParametersItem(new Parameter().in("query")
				.name("token")
				.required(false)
				.description("the bearer token, for browsers that cannot set the header")
				.schema(new StringSchema()))
			.responses(new ApiResponses()
				.addApiResponse("101", new ApiResponse().description("switching to the WebSocket protocol"))
				.addApiResponse("400", new ApiResponse().description("not a WebSocket handshake"))
				.addApiResponse("403", new ApiResponse().description("an origin that is not allowed")));
		return new PathItem().get(get);
	}

}
