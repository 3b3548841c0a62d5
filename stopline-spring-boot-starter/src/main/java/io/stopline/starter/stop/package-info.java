/**
 * How stops reach a worker: pub/sub plus the recorded requests, both handled
 * idempotently.
 */
@NullMarked
package io.stopline.starter.stop;

import org.jspecify.annotations.NullMarked;
