package io.stopline.worker;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import io.stopline.registry.ConversationRegistry;
import io.stopline.registry.DeadWorkerReaper;
import io.stopline.registry.PeriodicReaper;
import io.stopline.registry.GatewayInboxes;
import io.stopline.registry.RedisConversationRegistry;
import io.stopline.registry.StopRequests;
import io.stopline.registry.WorkerLiveness;
import org.redisson.api.RedissonClient;
import org.redisson.spring.starter.RedissonAutoConfigurationCustomizer;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.scheduling.TaskScheduler;

@Configuration(proxyBeanMethods = false)
class RedisConfiguration {

    @Bean
    ConversationRegistry conversationRegistry(StringRedisTemplate redis) {
        return new RedisConversationRegistry(redis);
    }

    @Bean
    StopRequests stopRequests(StringRedisTemplate redis) {
        return new StopRequests(redis);
    }

    @Bean
    GatewayInboxes gatewayInboxes(RedissonClient redisson) {
        return new GatewayInboxes(redisson);
    }

    @Bean
    WorkerLiveness workerLiveness(StringRedisTemplate redis) {
        return new WorkerLiveness(redis);
    }

    @Bean
    DeadWorkerReaper deadWorkerReaper(ConversationRegistry registry, WorkerLiveness liveness,
            GatewayInboxes inboxes) {
        return new DeadWorkerReaper(registry, liveness, inboxes);
    }

    @Bean
    PeriodicReaper periodicReaper(DeadWorkerReaper reaper, TaskScheduler scheduler, WorkerProperties properties) {
        return new PeriodicReaper(reaper, scheduler, properties.reaperInterval());
    }

    /** Runs execute on virtual threads: a blocked model call costs no platform thread. */
    @Bean(destroyMethod = "shutdownNow")
    ExecutorService runExecutor() {
        return Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("run-", 0).factory());
    }

    /**
     * A subscribed connection can sit half-open for minutes; a ping every few seconds notices it and makes Redisson
     * reconnect and resubscribe.
     */
    @Bean
    RedissonAutoConfigurationCustomizer pingSubscribedConnections() {
        return config -> {
            if (config.isSingleConfig()) {
                config.useSingleServer().setPingConnectionInterval(3000)
                    .setRetryDelay(attempt -> java.time.Duration.ofMillis(200));
            }
        };
    }
}
