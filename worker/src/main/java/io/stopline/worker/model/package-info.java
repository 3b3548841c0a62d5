/** The models a worker can run: the simulated one by default. */
@NullMarked
package io.stopline.worker.model;

import org.jspecify.annotations.NullMarked;
