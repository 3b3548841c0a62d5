/** The gateway's inbox: events from workers, routed by run id. */
@NullMarked
package io.stopline.gateway.inbox;

import org.jspecify.annotations.NullMarked;
