package io.stopline.core;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.stopline.core.events.TokenPlane;
import io.stopline.core.threads.ControlThreads;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.Test;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The node's main client (the control plane) answers and calls its listeners on threads
 * of the control plane's priority; the token plane's client keeps the default one.
 * Against a real Redis.
 */
class ControlPriorityIntegrationTests {

	private static final long BOUND_SECONDS = 10;

	@Test
	void theMainClientsThreadsRunAboveTheTokenPlanes() throws Exception {
		Config config = new Config();
		config.useSingleServer().setAddress(TestRedis.shared().url());
		StoplineRedisConfiguration.tune(config);
		StoplineRedisConfiguration.prioritize(config);
		RedissonClient control = Redisson.create(config);
		try (TokenPlane tokens = TokenPlane.apartFrom(control)) {
			assertThat(listenerPriority(control, control.getTopic("prio:control", StringCodec.INSTANCE)))
				.isEqualTo(ControlThreads.PRIORITY);
			assertThat(listenerPriority(control, tokens.topic("prio:tokens"))).isEqualTo(Thread.NORM_PRIORITY);
			// a reply completes on the client's I/O thread: a blocking poll cannot
			// complete
			// before the offer, so its callback runs there, not on this thread
			BlockingQueue<Integer> replied = new ArrayBlockingQueue<>(1);
			CompletableFuture<String> polled = control.<String>getBlockingQueue("prio:queue", StringCodec.INSTANCE)
				.pollAsync(BOUND_SECONDS, TimeUnit.SECONDS)
				.toCompletableFuture();
			polled.whenComplete((value, error) -> replied.add(Thread.currentThread().getPriority()));
			control.<String>getQueue("prio:queue", StringCodec.INSTANCE).add("x");
			assertThat(replied.poll(BOUND_SECONDS, TimeUnit.SECONDS)).isEqualTo(ControlThreads.PRIORITY);
		}
		finally {
			control.shutdown();
		}
	}

	private static int listenerPriority(RedissonClient publisher, org.redisson.api.RTopic topic) throws Exception {
		BlockingQueue<Integer> heard = new ArrayBlockingQueue<>(1);
		int listener = topic.addListener(String.class,
				(channel, message) -> heard.offer(Thread.currentThread().getPriority()));
		try {
			publisher.getTopic(topic.getChannelNames().getFirst(), StringCodec.INSTANCE).publish("hello");
			Integer priority = heard.poll(BOUND_SECONDS, TimeUnit.SECONDS);
			assertThat(priority).as("a message on %s", topic.getChannelNames()).isNotNull();
			return priority;
		}
		finally {
			topic.removeListener(listener);
		}
	}

}
