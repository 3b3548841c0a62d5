package io.stopline.worker;

import java.util.Map;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.scheduling.annotation.EnableScheduling;

/** A Stopline worker: runs chat tasks and cancels them when a stop reaches it. */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
public class WorkerApplication {

	public static void main(String[] args) {
		application().run(args);
	}

	/**
	 * The application, reading {@code worker.properties} (not
	 * {@code application.properties}, so a gateway and a worker can share one class path,
	 * as the multi-node tests do).
	 */
	public static SpringApplication application() {
		SpringApplication application = new SpringApplication(WorkerApplication.class);
		application.setDefaultProperties(Map.of("spring.config.name", "worker"));
		return application;
	}

}
