package io.stopline.it;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.stopline.gateway.GatewayApplication;
import io.stopline.testing.TestRedis;
import io.stopline.worker.WorkerApplication;
import io.stopline.worker.task.LocalTaskRegistry;

import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Gateways and workers, each its own Spring application context with its own web server
 * and Redis clients, sharing one real Redis: the nodes of a Stopline cluster, in one JVM.
 */
final class Cluster implements AutoCloseable {

	static final String JWT_SECRET = "integration-tests-secret-of-at-least-32-bytes";

	private final Map<String, String> redisProperties;

	private final List<ConfigurableApplicationContext> gateways = new ArrayList<>();

	private final List<ConfigurableApplicationContext> workers = new ArrayList<>();

	private final Map<String, String> gatewayProperties = new LinkedHashMap<>();

	private Cluster(Map<String, String> redisProperties) {
		this.redisProperties = redisProperties;
	}

	static Cluster start(TestRedis redis, int gatewayCount, int workerCount, Map<String, String> workerProperties) {
		return start(redis, gatewayCount, workerCount, workerProperties, Map.of());
	}

	static Cluster start(TestRedis redis, int gatewayCount, int workerCount, Map<String, String> workerProperties,
			Map<String, String> gatewayProperties) {
		return start(Map.of("spring.data.redis.url", redis.url()), gatewayCount, workerCount, workerProperties,
				gatewayProperties);
	}

	/**
	 * On any Redis set-up, given as Spring properties (a URL, or Sentinel or Cluster
	 * nodes).
	 */
	static Cluster start(Map<String, String> redisProperties, int gatewayCount, int workerCount,
			Map<String, String> workerProperties, Map<String, String> gatewayProperties) {
		Cluster cluster = new Cluster(redisProperties);
		cluster.gatewayProperties.putAll(gatewayProperties);
		try {
			for (int i = 0; i < workerCount; i++) {
				cluster.addWorker("worker-" + i + "-" + System.nanoTime(), workerProperties);
			}
			for (int i = 0; i < gatewayCount; i++) {
				cluster.addGateway();
			}
			return cluster;
		}
		catch (RuntimeException ex) {
			cluster.close();
			throw ex;
		}
	}

	ConfigurableApplicationContext addWorker(String id, Map<String, String> properties) {
		Map<String, String> all = new LinkedHashMap<>(common());
		all.put("stopline.worker.id", id);
		all.put("stopline.worker.shutdown-grace", "0s");
		// the gateway's Spring Security shares this class path; a worker jar has none
		all.put("spring.autoconfigure.exclude", String.join(",",
				"org.springframework.boot.security.autoconfigure.SecurityAutoConfiguration",
				"org.springframework.boot.security.autoconfigure.UserDetailsServiceAutoConfiguration",
				"org.springframework.boot.security.autoconfigure.actuate.web.servlet.ManagementWebSecurityAutoConfiguration",
				"org.springframework.boot.security.autoconfigure.web.servlet.SecurityFilterAutoConfiguration",
				"org.springframework.boot.security.autoconfigure.web.servlet.ServletWebSecurityAutoConfiguration",
				"org.springframework.boot.security.oauth2.server.resource.autoconfigure.OAuth2ResourceServerAutoConfiguration",
				"org.springframework.boot.security.oauth2.server.resource.autoconfigure.web.OAuth2ResourceServerWebSecurityAutoConfiguration"));
		all.putAll(properties);
		ConfigurableApplicationContext context = WorkerApplication.application().run(args(all));
		workers.add(context);
		return context;
	}

	ConfigurableApplicationContext addGateway() {
		return addGateway(context -> {
		});
	}

	/** A gateway whose context the initializer prepares first (a test's own beans). */
	ConfigurableApplicationContext addGateway(
			ApplicationContextInitializer<ConfigurableApplicationContext> initializer) {
		Map<String, String> all = new LinkedHashMap<>(common());
		all.put("stopline.auth.jwt-secret", JWT_SECRET);
		all.put("spring.profiles.active", "dev");
		// actuator on a port of its own, as by default, but a free one: several gateways
		// share this host
		all.put("management.server.port", "0");
		all.putAll(gatewayProperties);
		org.springframework.boot.SpringApplication application = GatewayApplication.application();
		application.addInitializers(initializer);
		ConfigurableApplicationContext context = application.run(args(all));
		gateways.add(context);
		return context;
	}

	Api api(int gateway, String user) {
		return Api.forUser(gatewayUrl(gateway), user);
	}

	String gatewayUrl(int gateway) {
		return "http://127.0.0.1:" + ((WebServerApplicationContext) gateways.get(gateway)).getWebServer().getPort();
	}

	/** The gateway's management port (actuator), apart from its API port. */
	String gatewayManagementUrl(int gateway) {
		return "http://127.0.0.1:" + gateways.get(gateway).getEnvironment().getProperty("local.management.port");
	}

	String workerUrl(int worker) {
		return "http://127.0.0.1:" + ((WebServerApplicationContext) workers.get(worker)).getWebServer().getPort();
	}

	/**
	 * Every node adds what its statistics counted to Redis now, instead of within the
	 * second.
	 */
	void flushStats() {
		gateways.forEach(node -> node.getBean(io.stopline.core.ops.StopStats.class).flush());
		workers.forEach(node -> node.getBean(io.stopline.core.ops.StopStats.class).flush());
	}

	/** The gateway's own Redis client (on any set-up: one Redis, Sentinel, Cluster). */
	org.springframework.data.redis.core.StringRedisTemplate redis(int gateway) {
		return gateways.get(gateway).getBean(org.springframework.data.redis.core.StringRedisTemplate.class);
	}

	/** Closes one worker's context (a graceful shutdown). */
	void closeWorker(int worker) {
		workers.get(worker).close();
	}

	LocalTaskRegistry tasks(int worker) {
		return workers.get(worker).getBean(LocalTaskRegistry.class);
	}

	String workerId(int worker) {
		return workers.get(worker).getEnvironment().getProperty("stopline.worker.id");
	}

	int workerCount() {
		return workers.size();
	}

	int gatewayCount() {
		return gateways.size();
	}

	/** Which worker runs this conversation of this user, or -1. */
	int workerOf(String user, String conversationId) {
		for (int i = 0; i < workers.size(); i++) {
			if (tasks(i).find(user, conversationId).isPresent()) {
				return i;
			}
		}
		return -1;
	}

	@Override
	public void close() {
		gateways.forEach(ConfigurableApplicationContext::close);
		workers.forEach(ConfigurableApplicationContext::close);
	}

	private Map<String, String> common() {
		Map<String, String> properties = new LinkedHashMap<>();
		properties.put("server.port", "0");
		properties.putAll(redisProperties);
		properties.put("spring.main.banner-mode", "off");
		properties.put("logging.level.root", "WARN");
		properties.put("logging.level.io.stopline", "INFO");
		return properties;
	}

	private static String[] args(Map<String, String> properties) {
		return properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
	}

}
