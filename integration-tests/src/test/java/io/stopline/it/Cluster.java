package io.stopline.it;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import io.stopline.gateway.GatewayApplication;
import io.stopline.testing.TestRedis;
import io.stopline.worker.WorkerApplication;
import io.stopline.starter.task.LocalTaskRegistry;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Gateways and workers, each its own Spring application context with its own web server
 * and Redis clients, sharing one real Redis: the nodes of a Stopline cluster, in one JVM.
 * <p>
 * A test class that uses one cluster for all its tests registers it as a JUnit extension
 * on a static field: it starts before the class's first test (on the shared Redis, or a
 * {@code redis-server} of its own) and is closed after its last: <pre>
 * &#64;RegisterExtension
 * static final Cluster cluster = Cluster.onSharedRedis(2, 2, workerProperties, gatewayProperties);
 * </pre> A test that needs a cluster of its own starts one with {@code start(...)} in a
 * try-with-resources.
 */
final class Cluster implements AutoCloseable, BeforeAllCallback, AfterAllCallback {

	static final String JWT_SECRET = "integration-tests-secret-of-at-least-32-bytes";

	private Map<String, String> redisProperties;

	private final List<ConfigurableApplicationContext> gateways = new ArrayList<>();

	private final List<ConfigurableApplicationContext> workers = new ArrayList<>();

	private final Map<String, String> gatewayProperties = new LinkedHashMap<>();

	/** What a cluster registered as an extension starts; null for one started at once. */
	private final @Nullable PerClass perClass;

	/** The Redis of a cluster registered as an extension. */
	private @Nullable TestRedis redis;

	private Cluster(Map<String, String> redisProperties) {
		this.redisProperties = redisProperties;
		this.perClass = null;
	}

	private Cluster(PerClass perClass) {
		this.redisProperties = Map.of();
		this.perClass = perClass;
		this.gatewayProperties.putAll(perClass.gatewayProperties());
	}

	/**
	 * A cluster for a test class, on the shared Redis, to register with
	 * {@code @RegisterExtension} on a static field.
	 */
	static Cluster onSharedRedis(int gatewayCount, int workerCount, Map<String, String> workerProperties,
			Map<String, String> gatewayProperties) {
		return new Cluster(new PerClass(false, gatewayCount, workerCount, workerProperties, gatewayProperties));
	}

	/**
	 * A cluster for a test class on a {@code redis-server} process of its own (started
	 * before the nodes, stopped after them), to register with {@code @RegisterExtension}
	 * on a static field.
	 */
	static Cluster onOwnRedis(int gatewayCount, int workerCount, Map<String, String> workerProperties,
			Map<String, String> gatewayProperties) {
		return new Cluster(new PerClass(true, gatewayCount, workerCount, workerProperties, gatewayProperties));
	}

	@Override
	public void beforeAll(ExtensionContext context) {
		PerClass spec = Objects.requireNonNull(perClass, "a cluster started with start(...) is not an extension");
		redis = spec.ownRedis() ? TestRedis.dedicatedProcess() : TestRedis.shared();
		redisProperties = Map.of("spring.data.redis.url", redis.url());
		try {
			startNodes(spec.gatewayCount(), spec.workerCount(), spec.workerProperties());
		}
		catch (RuntimeException ex) {
			afterAll(context);
			throw ex;
		}
	}

	@Override
	public void afterAll(ExtensionContext context) {
		close();
		gateways.clear();
		workers.clear();
		if (redis != null && Objects.requireNonNull(perClass).ownRedis()) {
			redis.close();
		}
		redis = null;
	}

	/** The Redis a cluster registered as an extension runs on. */
	TestRedis testRedis() {
		return Objects.requireNonNull(redis, "only a cluster registered as an extension knows its TestRedis");
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
		cluster.startNodes(gatewayCount, workerCount, workerProperties);
		return cluster;
	}

	private void startNodes(int gatewayCount, int workerCount, Map<String, String> workerProperties) {
		try {
			for (int i = 0; i < workerCount; i++) {
				addWorker("worker-" + i + "-" + System.nanoTime(), workerProperties);
			}
			for (int i = 0; i < gatewayCount; i++) {
				addGateway();
			}
		}
		catch (RuntimeException ex) {
			close();
			throw ex;
		}
	}

	ConfigurableApplicationContext addWorker(String id, Map<String, String> properties) {
		Map<String, String> all = new LinkedHashMap<>(common());
		all.put("stopline.worker.id", id);
		all.put("stopline.worker.shutdown-grace", "0s");
		// named on Redis (CLIENT LIST): a failover test can tell which node talks to
		// which
		// server
		all.put("spring.data.redis.client-name", id);
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
		all.put("spring.data.redis.client-name", "gateway-" + gateways.size());
		all.putAll(gatewayProperties);
		org.springframework.boot.SpringApplication application = GatewayApplication.application();
		application.addInitializers(initializer);
		ConfigurableApplicationContext context = application.run(args(all));
		gateways.add(context);
		return context;
	}

	/** The gateway's application context (its beans). */
	ConfigurableApplicationContext gateway(int gateway) {
		return gateways.get(gateway);
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

	private record PerClass(boolean ownRedis, int gatewayCount, int workerCount, Map<String, String> workerProperties,
			Map<String, String> gatewayProperties) {
	}

	private static String[] args(Map<String, String> properties) {
		return properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
	}

}
