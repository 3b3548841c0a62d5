/** Cross-cutting web concerns: problem details for every error. */
@NullMarked
package io.stopline.gateway.system;

import org.jspecify.annotations.NullMarked;
