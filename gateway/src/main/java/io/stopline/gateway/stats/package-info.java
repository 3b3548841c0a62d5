/** Cluster-wide stop statistics for operators. */
@NullMarked
package io.stopline.gateway.stats;

import org.jspecify.annotations.NullMarked;
