/**
 * The API's machine-readable description: OpenAPI 3.1 at {@code /v3/api-docs} (springdoc,
 * on in the {@code dev} profile), its UI at {@code /swagger-ui.html}, and the WebSocket
 * events' JSON schema beside it.
 */
@NullMarked
package io.stopline.gateway.api;

import org.jspecify.annotations.NullMarked;
