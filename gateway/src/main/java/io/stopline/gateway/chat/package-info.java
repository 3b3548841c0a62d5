/** Chat: starting runs on the workers and streaming them back, OpenAI compatible. */
@NullMarked
package io.stopline.gateway.chat;

import org.jspecify.annotations.NullMarked;
