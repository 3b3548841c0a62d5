/**
 * Operations: the cluster-wide stop statistics and the audit trail of stops.
 */
@NullMarked
package io.stopline.core.ops;

import org.jspecify.annotations.NullMarked;
