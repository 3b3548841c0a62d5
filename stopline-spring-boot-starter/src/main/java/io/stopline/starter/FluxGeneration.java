package io.stopline.starter;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

import io.stopline.starter.task.Generation;
import io.stopline.starter.task.GenerationFailure;
import io.stopline.starter.task.RunScope;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Sinks;

/**
 * A run whose tokens come from a {@link Publisher}: the run's thread requests one token
 * at a time, hands it to the run (which waits while paused, so a paused run holds its
 * upstream by backpressure, and throws once stopping) and then to the caller's
 * {@code Flux}. A stop interrupts the thread where it waits for the next token; the
 * subscription is cancelled on the way out, which closes the upstream's connection.
 */
final class FluxGeneration implements Generation {

	private static final Object COMPLETE = new Object();

	private final Publisher<String> upstream;

	private final Sinks.Many<String> downstream;

	private volatile @Nullable Throwable failure;

	FluxGeneration(Publisher<String> upstream, Sinks.Many<String> downstream) {
		this.upstream = upstream;
		this.downstream = downstream;
	}

	@Override
	public void generate(RunScope run) throws InterruptedException {
		Bridge bridge = new Bridge();
		upstream.subscribe(bridge);
		try {
			while (true) {
				bridge.request(1);
				Object next = bridge.signals.take();
				if (next == COMPLETE) {
					return;
				}
				if (next instanceof Throwable error) {
					failure = error;
					throw new GenerationFailure("The model failed to answer.", error);
				}
				String token = (String) next;
				run.emit(token);
				downstream.tryEmitNext(token);
			}
		}
		finally {
			bridge.dispose();
			run.upstreamClosed();
		}
	}

	/** The subscriber read each token as it passed: a stop keeps them all. */
	@Override
	public boolean keepsEveryToken() {
		return true;
	}

	/**
	 * The run has ended and its outcome is recorded: the caller's {@code Flux} ends too,
	 * with the upstream's error when it failed (a stop ends it normally).
	 */
	void ended() {
		Throwable error = failure;
		if (error != null) {
			downstream.tryEmitError(error);
		}
		else {
			downstream.tryEmitComplete();
		}
	}

	/** Requests nothing by itself: the run's thread asks for each token. */
	private static final class Bridge extends BaseSubscriber<String> {

		private final BlockingQueue<Object> signals = new LinkedBlockingQueue<>();

		@Override
		protected void hookOnSubscribe(Subscription subscription) {
		}

		@Override
		protected void hookOnNext(String token) {
			signals.add(token);
		}

		@Override
		protected void hookOnComplete() {
			signals.add(COMPLETE);
		}

		@Override
		protected void hookOnError(Throwable error) {
			signals.add(error);
		}

	}

}
