/**
 * The Redis schema, written once: every key and channel name
 * ({@link io.stopline.core.schema.Keys}, with the literal commands), the pub/sub topics
 * ({@link io.stopline.core.schema.Channels}), the Lua scripts and the conversation id
 * rule. Depends on nothing else of Stopline.
 */
@NullMarked
package io.stopline.core.schema;

import org.jspecify.annotations.NullMarked;
