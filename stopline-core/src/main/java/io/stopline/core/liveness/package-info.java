/**
 * Worker liveness: heartbeat keys with a TTL, and the reapers that end the runs of
 * workers whose heartbeat expired and of runs queued without a job.
 */
@NullMarked
package io.stopline.core.liveness;

import org.jspecify.annotations.NullMarked;
