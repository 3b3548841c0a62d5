package io.stopline.starter;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import io.stopline.core.run.ConversationRegistry;
import io.stopline.protocol.HistoryMessage;
import io.stopline.starter.liveness.LivenessScheduler;
import io.stopline.testing.TestRedis;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/**
 * The starter's contract, with two application contexts on one real Redis (two replicas
 * of an application): a stream registered on one is stopped from the other, its upstream
 * cancelled and its partial answer kept; a run id stopped before it started never
 * subscribes its upstream; a replica that dies with a run has that run reaped by the
 * other.
 */
class StoplineContractTests {

	private static final Duration BOUND = Duration.ofSeconds(10);

	private ConfigurableApplicationContext nodeA;

	private ConfigurableApplicationContext nodeB;

	private String user;

	@BeforeEach
	void startReplicas() {
		nodeA = node("a-" + UUID.randomUUID());
		nodeB = node("b-" + UUID.randomUUID());
		user = "user-" + UUID.randomUUID();
	}

	@AfterEach
	void stopReplicas() {
		nodeA.close();
		nodeB.close();
	}

	@Test
	void aStopFromTheOtherReplicaEndsTheStreamCancelsItsUpstreamAndKeepsThePartialAnswer() throws Exception {
		CountDownLatch upstreamCancelled = new CountDownLatch(1);
		Flux<String> upstream = endless().doOnCancel(upstreamCancelled::countDown);
		String conversation = "c-" + UUID.randomUUID();
		Reader reader = Reader.of(stopline(nodeA).run(RunRequest.of(conversation, user, "test", "hello"), upstream));
		await().atMost(BOUND).until(() -> reader.tokens.size() >= 3);
		assertThat(stopline(nodeB).active(user)).singleElement()
			.satisfies(run -> assertThat(run.workerId()).isEqualTo(stopline(nodeA).nodeId()));

		assertThat(stopline(nodeB).stop(user, conversation, null)).isEqualTo(StopResult.CONFIRMED);

		assertThat(upstreamCancelled.await(BOUND.toMillis(), TimeUnit.MILLISECONDS)).as("upstream cancelled").isTrue();
		assertThat(reader.completed.await(BOUND.toMillis(), TimeUnit.MILLISECONDS)).as("stream completed").isTrue();
		assertThat(reader.failure()).isNull();
		List<HistoryMessage> history = registry(nodeB).history(user, conversation);
		assertThat(history).extracting(HistoryMessage::role, HistoryMessage::content, HistoryMessage::status)
			.startsWith(tuple("user", "hello", "complete"),
					tuple("assistant", String.join("", reader.tokens), "stopped"));
		assertThat(history.get(history.size() - 1).stopReason()).as("the stop marker").isEqualTo("user");
		assertThat(stopline(nodeA).active(user)).isEmpty();
	}

	@Test
	void aRunStoppedBeforeItStartsNeverSubscribesItsUpstream() throws Exception {
		String conversation = "c-" + UUID.randomUUID();
		String runId = "run-" + UUID.randomUUID();
		assertThat(stopline(nodeB).stop(user, conversation, runId)).isEqualTo(StopResult.STOPPED_BEFORE);
		AtomicInteger subscribed = new AtomicInteger();
		Flux<String> upstream = endless().doOnSubscribe(subscription -> subscribed.incrementAndGet());

		Reader reader = Reader
			.of(stopline(nodeA).run(RunRequest.of(conversation, user, "test", "hello").withRunId(runId), upstream));

		assertThat(reader.completed.await(BOUND.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
		assertThat(reader.tokens).isEmpty();
		assertThat(subscribed).hasValue(0);
		assertThat(stopline(nodeA).active(user)).isEmpty();
	}

	@Test
	void theRunsOfADeadReplicaAreReapedByTheOther() {
		String conversation = "c-" + UUID.randomUUID();
		Reader reader = Reader.of(stopline(nodeA).run(RunRequest.of(conversation, user, "test", "hello"), endless()));
		await().atMost(BOUND).until(() -> reader.tokens.size() >= 3);

		// replica A freezes for good: no heartbeat, no reconcile, no self-check
		nodeA.getBean(LivenessScheduler.class).destroy();

		await().atMost(BOUND).until(() -> stopline(nodeB).active(user).isEmpty());
		assertThat(registry(nodeB).history(user, conversation)).extracting(HistoryMessage::role, HistoryMessage::status)
			.contains(tuple("assistant", "interrupted"));
		reader.subscription.dispose();
	}

	@Test
	void aBlockingStreamAndAFutureRunToCompletion() throws Exception {
		Reader stream = Reader.of(stopline(nodeA).run(RunRequest.of("c-" + UUID.randomUUID(), user, "test", "hi"),
				Stream.of("Hello", ", ", "world")));
		Reader future = Reader.of(stopline(nodeB).run(RunRequest.of("c-" + UUID.randomUUID(), user, "test", "hi"),
				java.util.concurrent.CompletableFuture.supplyAsync(() -> "whole answer")));

		assertThat(stream.completed.await(BOUND.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
		assertThat(future.completed.await(BOUND.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
		assertThat(String.join("", stream.tokens)).isEqualTo("Hello, world");
		assertThat(future.tokens).containsExactly("whole answer");
	}

	/** One token every 5 ms, for ever, as a model streams. */
	private static Flux<String> endless() {
		return Flux.range(0, Integer.MAX_VALUE).map(i -> "t" + i + " ").delayElements(Duration.ofMillis(5));
	}

	private static Stopline stopline(ConfigurableApplicationContext node) {
		return node.getBean(Stopline.class);
	}

	private static ConversationRegistry registry(ConfigurableApplicationContext node) {
		return node.getBean(ConversationRegistry.class);
	}

	private static ConfigurableApplicationContext node(String id) {
		return new SpringApplicationBuilder(Replica.class).web(WebApplicationType.NONE)
			.properties("spring.data.redis.url=" + TestRedis.shared().url(), "stopline.worker.id=" + id,
					"stopline.worker.heartbeat-ttl=3s", "stopline.worker.reaper-interval=200ms",
					"spring.main.banner-mode=off")
			.run();
	}

	/** What a subscriber of a run's stream read. */
	private record Reader(BlockingQueue<String> tokens, CountDownLatch completed, Disposable subscription,
			Throwable[] failed) {

		static Reader of(Flux<String> stream) {
			BlockingQueue<String> tokens = new LinkedBlockingQueue<>();
			CountDownLatch completed = new CountDownLatch(1);
			Throwable[] failed = new Throwable[1];
			Disposable subscription = stream.subscribe(tokens::add, error -> {
				failed[0] = error;
				completed.countDown();
			}, completed::countDown);
			return new Reader(tokens, completed, subscription, failed);
		}

		Throwable failure() {
			return failed[0];
		}

	}

	/** An application that only adds the starter. */
	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class Replica {

	}

}
