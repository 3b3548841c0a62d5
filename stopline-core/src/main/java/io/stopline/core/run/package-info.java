/**
 * The conversation registry: who runs what, fenced by run id, and what a run leaves in
 * the history (the run's record and outcome).
 */
@NullMarked
package io.stopline.core.run;

import org.jspecify.annotations.NullMarked;
