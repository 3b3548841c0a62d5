/**
 * The conversation registry: who runs what, fenced by run id, stored in Redis under the
 * schema of {@link io.stopline.registry.Keys}.
 */
@NullMarked
package io.stopline.registry;

import org.jspecify.annotations.NullMarked;
