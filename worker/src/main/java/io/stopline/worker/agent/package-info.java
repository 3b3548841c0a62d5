/** The worker's agents (a model and its tools) as generations of the starter's runs. */
@NullMarked
package io.stopline.worker.agent;

import org.jspecify.annotations.NullMarked;
