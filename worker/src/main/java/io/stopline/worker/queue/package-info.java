/** The work queue: how a worker takes runs. */
@NullMarked
package io.stopline.worker.queue;

import org.jspecify.annotations.NullMarked;
