/** Pause and resume of a running conversation. */
@NullMarked
package io.stopline.gateway.control;

import org.jspecify.annotations.NullMarked;
