package io.stopline.core;

import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.redisson.api.RedissonClient;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ThreadPerTaskExecutor;
import io.stopline.core.threads.ControlThreads;
import org.redisson.config.Config;
import org.redisson.config.ReadMode;
import org.redisson.config.SslVerificationMode;
import org.redisson.config.SubscriptionMode;
import org.redisson.spring.starter.RedissonAutoConfigurationCustomizer;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.core.StringRedisTemplate;

import io.stopline.core.events.GatewayInboxes;
import io.stopline.core.events.RunEvents;
import io.stopline.core.events.TokenPlane;
import io.stopline.core.liveness.DeadWorkerReaper;
import io.stopline.core.liveness.QueueSweepProperties;
import io.stopline.core.liveness.WorkerLiveness;
import io.stopline.core.ops.StopAudit;
import io.stopline.core.ops.StopStats;
import io.stopline.core.run.ConversationRegistry;
import io.stopline.core.run.HistoryProperties;
import io.stopline.core.run.RedisConversationRegistry;
import io.stopline.core.run.ResumeProperties;
import io.stopline.core.run.RunReplays;
import io.stopline.core.schema.Topology;
import io.stopline.core.threads.SchedulerLagMetrics;
import io.stopline.core.stop.StopRequests;

/**
 * The Redis-backed parts every Stopline node uses, for a node to import. Needs a
 * {@link StringRedisTemplate} and a {@link RedissonClient} (Redisson's Spring Boot
 * starter provides both).
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({ HistoryProperties.class, RedisSslProperties.class, ResumeProperties.class,
		QueueSweepProperties.class })
public class StoplineRedisConfiguration {

	/**
	 * Redisson pings every connection this often, so a half-open subscribed connection is
	 * noticed within seconds.
	 */
	public static final Duration PING_INTERVAL = Duration.ofSeconds(3);

	/**
	 * Applies {@link #tune} and the trust settings of {@code stopline.redis.ssl.*} to the
	 * Redisson client the starter builds.
	 */
	@Bean
	public RedissonAutoConfigurationCustomizer stoplineRedissonTuning(RedisSslProperties ssl) {
		return config -> {
			tune(config);
			trust(config, ssl);
			prioritize(config);
		};
	}

	/**
	 * The node's main client carries the control plane (stops, confirmations, claims,
	 * finishes, heartbeats; tokens have their own client, {@link TokenPlane}): its I/O
	 * threads and its listener threads run above the streams' ({@link ControlThreads}).
	 * As many listener threads as Redisson would start ({@code threads}, 16 by default;
	 * 0: two per core). The pool is not shut down with the client: Redisson may still
	 * hand it a listener's call while it closes; its threads end once idle.
	 */
	static void prioritize(Config config) {
		config.setNettyExecutor(
				new ThreadPerTaskExecutor(new DefaultThreadFactory("redisson-netty", true, ControlThreads.PRIORITY)));
		int threads = config.getThreads() > 0 ? config.getThreads() : 2 * Runtime.getRuntime().availableProcessors();
		config.setExecutor(ControlThreads.pool("redisson-", threads));
	}

	/**
	 * {@code rediss://} against a server whose certificate a private CA signed:
	 * {@code stopline.redis.ssl.truststore} (a URL or file path of a PKCS12/JKS store),
	 * {@code .truststore-password}, {@code .verify-hostname} (default true).
	 */
	static void trust(Config config, RedisSslProperties ssl) {
		String truststore = ssl.truststore();
		if (truststore == null || truststore.isBlank()) {
			return;
		}
		try {
			URL url = truststore.contains(":") && !truststore.startsWith("/") ? URI.create(truststore).toURL()
					: Path.of(truststore).toUri().toURL();
			config.setSslTruststore(url);
		}
		catch (MalformedURLException | IllegalArgumentException ex) {
			throw new IllegalArgumentException("stopline.redis.ssl.truststore is not a URL or path: " + truststore, ex);
		}
		if (ssl.truststorePassword() != null) {
			config.setSslTruststorePassword(ssl.truststorePassword());
		}
		config.setSslVerificationMode(ssl.verifyHostname() ? SslVerificationMode.STRICT : SslVerificationMode.CA_ONLY);
	}

	/** How late the virtual threads wake ({@code stopline.scheduler.lag}). */
	@Bean(destroyMethod = "close")
	public SchedulerLagMetrics schedulerLagMetrics() {
		return new SchedulerLagMetrics();
	}

	@Bean
	public StopAudit stopAudit(StringRedisTemplate redis, ExecutorService auditWriter) {
		return new StopAudit(redis, auditWriter);
	}

	/** Audit entries are written in order, one at a time, after the stop is answered. */
	@Bean(destroyMethod = "close")
	public ExecutorService auditWriter() {
		return Executors.newSingleThreadExecutor(Thread.ofVirtual().name("audit-writer").factory());
	}

	/** Counted in memory, added to Redis every second and at shutdown. */
	@Bean(destroyMethod = "close")
	public StopStats stopStats(StringRedisTemplate redis) {
		return StopStats.flushedEvery(redis, StopStats.FLUSH_INTERVAL);
	}

	/**
	 * Cleanup that follows a run's end runs here, off the path of the stop's
	 * confirmation.
	 */
	@Bean(destroyMethod = "close")
	public ExecutorService registryCleanup() {
		return Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("registry-cleanup-", 0).factory());
	}

	/**
	 * One Redis or Sentinel, or Redis Cluster: decided once, from the client's
	 * configuration.
	 */
	@Bean
	public Topology redisTopology(RedissonClient redisson) {
		return Topology.of(redisson);
	}

	@Bean
	public RunReplays runReplays(StringRedisTemplate redis, ResumeProperties resume) {
		return new RunReplays(redis, resume.grace());
	}

	@Bean
	public ConversationRegistry conversationRegistry(StringRedisTemplate redis, StopStats stats,
			ExecutorService registryCleanup, Topology topology, HistoryProperties history) {
		return new RedisConversationRegistry(redis, stats, registryCleanup, topology, history.maxMessages());
	}

	@Bean
	public StopRequests stopRequests(StringRedisTemplate redis, Topology topology) {
		return new StopRequests(redis, topology);
	}

	@Bean
	public GatewayInboxes gatewayInboxes(RedissonClient redisson) {
		return new GatewayInboxes(redisson);
	}

	/** The token data plane's own Redisson client (see {@link TokenPlane}). */
	@Bean(destroyMethod = "close")
	public TokenPlane tokenPlane(RedissonClient redisson) {
		return TokenPlane.apartFrom(redisson);
	}

	@Bean
	public RunEvents runEvents(RedissonClient redisson, GatewayInboxes inboxes, TokenPlane tokenPlane) {
		return new RunEvents(redisson, inboxes, tokenPlane);
	}

	@Bean
	public WorkerLiveness workerLiveness(StringRedisTemplate redis) {
		return new WorkerLiveness(redis);
	}

	@Bean
	public DeadWorkerReaper deadWorkerReaper(ConversationRegistry registry, WorkerLiveness liveness, RunEvents events,
			StopAudit audit, QueueSweepProperties queue) {
		return new DeadWorkerReaper(registry, liveness, events, audit, queue.withoutJobAfter());
	}

	/**
	 * Tunes a Redisson configuration for stop coordination: a short ping interval on
	 * every connection (subscribed ones included), and quick reconnect attempts, so a
	 * lost subscription is back within a second or so.
	 */
	public static void tune(Config config) {
		if (config.isSingleConfig()) {
			config.useSingleServer()
				.setPingConnectionInterval((int) PING_INTERVAL.toMillis())
				.setRetryDelay(attempt -> Duration.ofMillis(200));
		}
		else if (config.isSentinelConfig()) {
			// reads and subscriptions on the master: a replica's lag would show a stop
			// what was true a moment ago
			config.useSentinelServers()
				.setPingConnectionInterval((int) PING_INTERVAL.toMillis())
				.setReadMode(ReadMode.MASTER)
				.setSubscriptionMode(SubscriptionMode.MASTER)
				.setRetryDelay(attempt -> Duration.ofMillis(200));
		}
		else if (config.isClusterConfig()) {
			// topology rescanned every second: after a failover, MOVED replies name a
			// node the client must know
			config.useClusterServers()
				.setScanInterval(1000)
				.setPingConnectionInterval((int) PING_INTERVAL.toMillis())
				.setReadMode(ReadMode.MASTER)
				.setSubscriptionMode(SubscriptionMode.MASTER)
				.setRetryDelay(attempt -> Duration.ofMillis(200));
		}
	}

}
