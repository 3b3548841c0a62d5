/** The audit trail of stops, for admins. */
@NullMarked
package io.stopline.gateway.audit;

import org.jspecify.annotations.NullMarked;
