/**
 * Run events on their way to clients: the gateway inboxes, the conversation channels and
 * the token data plane.
 */
@NullMarked
package io.stopline.core.events;

import org.jspecify.annotations.NullMarked;
