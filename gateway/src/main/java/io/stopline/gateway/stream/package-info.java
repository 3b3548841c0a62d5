/**
 * The WebSocket stream of a conversation: {@code /v1/conversation/{id}/stream} sends the
 * conversation's state, then every event of its runs, whichever gateway and worker they
 * come from.
 */
@NullMarked
package io.stopline.gateway.stream;

import org.jspecify.annotations.NullMarked;
