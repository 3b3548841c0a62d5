package io.stopline.gateway.page;

import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code stopline.agents.*}: the agents a client may name as a chat's {@code model}. The
 * workers decide what an agent runs on ({@code stopline.model.agents.<name>.*}, else the
 * simulated model); this list is what the page offers, so it should name the workers'
 * agents.
 *
 * @param names the agents, the first one the default
 */
@ConfigurationProperties("stopline.agents")
record AgentProperties(@DefaultValue("assistant") List<String> names) {
}
