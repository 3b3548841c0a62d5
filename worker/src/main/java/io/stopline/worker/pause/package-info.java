/**
 * Pause and resume: the listener for a worker's control channel and what it does to a
 * run's {@link io.stopline.worker.task.PauseGate}.
 */
@NullMarked
package io.stopline.worker.pause;

import org.jspecify.annotations.NullMarked;
