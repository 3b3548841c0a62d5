/**
 * The core of Stopline, shared by gateways and workers: the Redis schema
 * ({@code schema}), the conversation registry ({@code run}), stop signalling
 * ({@code stop}), run events ({@code events}), worker liveness and reaping
 * ({@code liveness}), statistics and audit ({@code ops}), wired by
 * {@link io.stopline.core.StoplineRedisConfiguration}. Arrows point one way: schema at
 * the bottom, this package on top; the messages of {@link io.stopline.protocol} depend on
 * none of them ({@code CoreArchitectureTests}).
 */
@NullMarked
package io.stopline.core;

import org.jspecify.annotations.NullMarked;
