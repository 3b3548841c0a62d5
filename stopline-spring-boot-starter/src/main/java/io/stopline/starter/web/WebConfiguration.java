package io.stopline.starter.web;

import io.stopline.starter.Stopline;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The stop endpoints, only when asked for ({@code stopline.starter.web.enabled=true}) in
 * a servlet web application.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnProperty(name = "stopline.starter.web.enabled", havingValue = "true")
public class WebConfiguration {

	@Bean
	StopEndpoints stoplineStopEndpoints(Stopline stopline) {
		return new StopEndpoints(stopline);
	}

}
