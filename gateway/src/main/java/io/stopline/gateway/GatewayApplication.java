package io.stopline.gateway;

import java.util.Map;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.scheduling.annotation.EnableScheduling;

/** A Stopline gateway: the API of the frontend. */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
public class GatewayApplication {

	public static void main(String[] args) {
		application().run(args);
	}

	/**
	 * The application, reading {@code gateway.properties} (not
	 * {@code application.properties}, so a gateway and a worker can share one class path,
	 * as the multi-node tests do).
	 */
	public static SpringApplication application() {
		SpringApplication application = new SpringApplication(GatewayApplication.class);
		application.setDefaultProperties(Map.of("spring.config.name", "gateway"));
		return application;
	}

}
