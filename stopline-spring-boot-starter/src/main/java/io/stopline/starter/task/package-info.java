/**
 * Runs on this worker: the thread-safe local registry, the task life cycle and the
 * runner.
 */
@NullMarked
package io.stopline.starter.task;

import org.jspecify.annotations.NullMarked;
