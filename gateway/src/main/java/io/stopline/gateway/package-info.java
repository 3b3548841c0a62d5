/** The Stopline gateway application. */
@NullMarked
package io.stopline.gateway;

import org.jspecify.annotations.NullMarked;
