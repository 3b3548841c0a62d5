package io.stopline.core.threads;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The hand-off happens only from a virtual thread while the scheduler is busy; the work's
 * answer, failure and log context cross it; an interrupted caller cancels or lets finish
 * as asked.
 */
class ControlHandOffTests {

	private static final long BOUND_SECONDS = 10;

	private static SchedulerLag busy() {
		SchedulerLag lag = SchedulerLag.unprobed();
		lag.sample(Duration.ofMillis(50).toNanos());
		return lag;
	}

	@Test
	void anIdleSchedulerOrAPlatformCallerKeepsTheWorkOnTheCallersThread() throws Exception {
		try (ControlHandOff idle = new ControlHandOff(SchedulerLag.unprobed(), "t-", 2,
				ControlHandOff.OnInterrupt.CANCEL);
				ControlHandOff busy = new ControlHandOff(busy(), "t-", 2, ControlHandOff.OnInterrupt.CANCEL)) {
			assertThat(onVirtualThread(() -> idle.call(Thread::currentThread)).isVirtual()).isTrue();
			assertThat(busy.call(Thread::currentThread)).isSameAs(Thread.currentThread());
		}
	}

	@Test
	void aBusySchedulerHandsTheWorkToAPlatformThreadWithTheLogContext() throws Exception {
		try (ControlHandOff handOff = new ControlHandOff(busy(), "control-", 2, ControlHandOff.OnInterrupt.CANCEL)) {
			String[] seen = onVirtualThread(() -> {
				MDC.put("run_id", "r-1");
				try {
					return handOff.call(() -> new String[] { Thread.currentThread().getName(),
							String.valueOf(Thread.currentThread().isVirtual()), MDC.get("run_id"),
							String.valueOf(Thread.currentThread().getPriority()) });
				}
				finally {
					MDC.clear();
				}
			});
			// above the streams' threads for a core (ControlThreads)
			assertThat(seen).containsExactly("control-0", "false", "r-1", String.valueOf(Thread.MAX_PRIORITY));
			RuntimeException failure = new IllegalArgumentException("no");
			assertThatThrownBy(() -> onVirtualThread(() -> handOff.call(() -> {
				throw failure;
			}))).hasRootCause(failure);
		}
	}

	@Test
	void anInterruptedCallerCancelsOrLetsTheWorkFinish() throws Exception {
		for (ControlHandOff.OnInterrupt policy : ControlHandOff.OnInterrupt.values()) {
			try (ControlHandOff handOff = new ControlHandOff(busy(), "control-", 2, policy)) {
				CountDownLatch working = new CountDownLatch(1);
				CountDownLatch release = new CountDownLatch(1);
				CompletableFuture<String> workEnded = new CompletableFuture<>();
				AtomicReference<Object> callerSaw = new AtomicReference<>();
				Thread caller = Thread.ofVirtual().start(() -> {
					try {
						callerSaw.set(handOff.call(() -> {
							working.countDown();
							try {
								release.await();
								workEnded.complete("finished");
							}
							catch (InterruptedException ex) {
								workEnded.complete("cancelled");
							}
							return "answer";
						}));
					}
					catch (RuntimeException ex) {
						callerSaw.set(ex);
					}
				});
				assertThat(working.await(BOUND_SECONDS, TimeUnit.SECONDS)).isTrue();
				caller.interrupt();
				caller.join(Duration.ofSeconds(BOUND_SECONDS));
				assertThat(caller.isAlive()).isFalse();
				release.countDown();
				if (policy == ControlHandOff.OnInterrupt.CANCEL) {
					assertThat(callerSaw.get()).isInstanceOf(IllegalStateException.class);
					assertThat(workEnded.get(BOUND_SECONDS, TimeUnit.SECONDS)).isEqualTo("cancelled");
				}
				else {
					assertThat(callerSaw.get()).isNull();
					assertThat(workEnded.get(BOUND_SECONDS, TimeUnit.SECONDS)).isEqualTo("finished");
				}
			}
		}
	}

	private static <T> T onVirtualThread(java.util.function.Supplier<T> work) throws Exception {
		CompletableFuture<T> answer = new CompletableFuture<>();
		Thread.ofVirtual().start(() -> {
			try {
				answer.complete(work.get());
			}
			catch (Throwable ex) {
				answer.completeExceptionally(ex);
			}
		});
		return answer.get(BOUND_SECONDS, TimeUnit.SECONDS);
	}

}
