/**
 * Stop requests: recorded durably in the owner's stop set, then signalled (the fast
 * path).
 */
@NullMarked
package io.stopline.core.stop;

import org.jspecify.annotations.NullMarked;
