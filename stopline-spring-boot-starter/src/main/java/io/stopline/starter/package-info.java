/**
 * The Stopline starter: makes an application's streams stoppable from any replica (see
 * {@link io.stopline.starter.StoplineAutoConfiguration}).
 */
@NullMarked
package io.stopline.starter;

import org.jspecify.annotations.NullMarked;
