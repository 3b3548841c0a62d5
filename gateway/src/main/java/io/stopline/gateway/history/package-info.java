/** Conversation history as the caller sees it. */
@NullMarked
package io.stopline.gateway.history;

import org.jspecify.annotations.NullMarked;
