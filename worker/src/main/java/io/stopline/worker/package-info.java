/** The Stopline worker application. */
@NullMarked
package io.stopline.worker;

import org.jspecify.annotations.NullMarked;
