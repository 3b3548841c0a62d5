/**
 * Pause and resume: the listener for a worker's control channel and what it does to a
 * run's {@link io.stopline.starter.task.PauseGate}.
 */
@NullMarked
package io.stopline.starter.pause;

import org.jspecify.annotations.NullMarked;
