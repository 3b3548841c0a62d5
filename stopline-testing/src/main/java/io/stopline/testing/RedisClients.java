package io.stopline.testing;

import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;
import org.redisson.spring.data.connection.RedissonConnectionFactory;

import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Clients on a {@link TestRedis}, built the way the applications build theirs (Redisson
 * under Spring Data).
 */
public final class RedisClients implements AutoCloseable {

	private final RedissonClient redisson;

	private final StringRedisTemplate template;

	public RedisClients(TestRedis redis) {
		Config config = new Config();
		config.useSingleServer().setAddress(redis.url());
		this.redisson = Redisson.create(config);
		this.template = new StringRedisTemplate(new RedissonConnectionFactory(redisson));
		this.template.afterPropertiesSet();
	}

	public RedissonClient redisson() {
		return redisson;
	}

	public StringRedisTemplate template() {
		return template;
	}

	@Override
	public void close() {
		redisson.shutdown();
	}

}
