/** The stop API and the stop protocol as a gateway runs it. */
@NullMarked
package io.stopline.gateway.stop;

import org.jspecify.annotations.NullMarked;
