package io.stopline.example.chat;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * A small Spring AI chat application. Adding the Stopline starter (and setting
 * {@code stopline.starter.web.enabled=true}) makes its streams stoppable from any of its
 * replicas: nothing else here knows about Redis.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class ChatApplication {

	public static void main(String[] args) {
		SpringApplication.run(ChatApplication.class, args);
	}

}
