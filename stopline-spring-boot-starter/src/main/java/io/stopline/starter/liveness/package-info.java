/** Liveness of this worker, seen by the rest of the cluster. */
@NullMarked
package io.stopline.starter.liveness;

import org.jspecify.annotations.NullMarked;
