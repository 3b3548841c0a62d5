package io.stopline.worker.model;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code stopline.model.simulated.*}: the built-in model streams one token per
 * {@code tokenDelay}.
 */
@ConfigurationProperties("stopline.model.simulated")
record SimulatedModelProperties(@DefaultValue("20ms") Duration tokenDelay) {
}
