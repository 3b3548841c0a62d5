package io.stopline.starter.task;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

import io.stopline.core.events.RunEvents.FrameOut;
import org.jspecify.annotations.Nullable;

/**
 * The frames of every run on this worker, on their way to Redis, in one lane per
 * destination gateway: a lane sends one pipelined write (every frame ready for that
 * gateway in one message, plus the watched runs' copies) at most once per
 * {@code interval}, and only once the previous write of the lane was taken by Redis.
 * Frames that arrive in between join the next write, so a busy worker sends fewer, larger
 * writes instead of one {@code PUBLISH} and one wake-up per frame per run.
 *
 * <p>
 * A frame that finds its lane quiet (nothing sent for {@code interval}) leaves at once,
 * and so does an urgent one (a run's first frame, a drain before a pause or an end): the
 * batching never holds a quiet stream back. Order: one write in flight per lane and a
 * run's frames in submission order within it; the run's {@link TokenOutbox} keeps at most
 * one frame of a run in flight, so a run's frames never overtake each other.
 *
 * <p>
 * A frame still waiting in its lane can be {@linkplain Ticket#withdraw() withdrawn} (a
 * stop): it is then never sent, and the stopped run records exactly what left.
 */
final class FrameLanes {

	/** Sends the frames of one lane's write; completes when Redis has taken them. */
	@FunctionalInterface
	interface Sink {

		CompletableFuture<Void> publish(String gatewayId, List<FrameOut> frames);

	}

	private final Sink sink;

	private final ScheduledExecutorService timers;

	private final long intervalNanos;

	private final ConcurrentMap<String, Lane> lanes = new ConcurrentHashMap<>();

	FrameLanes(Sink sink, ScheduledExecutorService timers, Duration interval) {
		this.sink = sink;
		this.timers = timers;
		this.intervalNanos = interval.toNanos();
	}

	/**
	 * Queues {@code frame} for {@code gatewayId}; the ticket completes when Redis has
	 * taken it (exceptionally when the write failed).
	 */
	Ticket submit(String gatewayId, FrameOut frame, boolean urgent) {
		Lane lane = lanes.computeIfAbsent(gatewayId, Lane::new);
		Ticket ticket = new Ticket(frame, lane);
		lane.add(ticket, urgent);
		return ticket;
	}

	/** One frame's place in a lane. */
	static final class Ticket extends CompletableFuture<Void> {

		private static final int QUEUED = 0;

		private static final int SENT = 1;

		private static final int WITHDRAWN = 2;

		private final AtomicInteger state = new AtomicInteger(QUEUED);

		private final FrameOut frame;

		private final Lane lane;

		private Ticket(FrameOut frame, Lane lane) {
			this.frame = frame;
			this.lane = lane;
		}

		/**
		 * Makes the lane send without waiting for its interval (a drain: the run waits
		 * for this frame before it says anything else).
		 */
		void hurry() {
			if (state.get() == QUEUED) {
				lane.hurry();
			}
		}

		/**
		 * True when the frame had not left yet and now never will; false when it is
		 * already written (or being written): await the ticket then.
		 */
		boolean withdraw() {
			return state.compareAndSet(QUEUED, WITHDRAWN);
		}

		private boolean take() {
			return state.compareAndSet(QUEUED, SENT);
		}

	}

	private final class Lane {

		private final String gatewayId;

		private final ReentrantLock lock = new ReentrantLock();

		private List<Ticket> pending = new ArrayList<>();

		private boolean urgent;

		private boolean inFlight;

		private long lastSent = System.nanoTime() - intervalNanos;

		private @Nullable ScheduledFuture<?> timer;

		Lane(String gatewayId) {
			this.gatewayId = gatewayId;
		}

		void add(Ticket ticket, boolean urgentFrame) {
			List<Ticket> due;
			lock.lock();
			try {
				pending.add(ticket);
				urgent |= urgentFrame;
				due = inFlight ? null : dueOrWait();
			}
			finally {
				lock.unlock();
			}
			send(due);
		}

		void hurry() {
			List<Ticket> due;
			lock.lock();
			try {
				urgent = true;
				due = inFlight ? null : dueOrWait();
			}
			finally {
				lock.unlock();
			}
			send(due);
		}

		/**
		 * Under the lock, nothing in flight: the pending frames when they may leave now,
		 * else null (and a timer for when they may).
		 */
		private @Nullable List<Ticket> dueOrWait() {
			if (pending.isEmpty()) {
				return null;
			}
			long now = System.nanoTime();
			long wait = lastSent + intervalNanos - now;
			if (urgent || wait <= 0) {
				if (timer != null) {
					timer.cancel(false);
					timer = null;
				}
				List<Ticket> due = pending;
				pending = new ArrayList<>();
				urgent = false;
				inFlight = true;
				lastSent = now;
				return due;
			}
			if (timer == null) {
				timer = timers.schedule(this::timerFired, wait, TimeUnit.NANOSECONDS);
			}
			return null;
		}

		private void timerFired() {
			List<Ticket> due;
			lock.lock();
			try {
				timer = null;
				due = inFlight ? null : dueOrWait();
			}
			finally {
				lock.unlock();
			}
			send(due);
		}

		private void send(@Nullable List<Ticket> due) {
			if (due == null) {
				return;
			}
			List<Ticket> taken = new ArrayList<>(due.size());
			List<FrameOut> frames = new ArrayList<>(due.size());
			for (Ticket ticket : due) {
				if (ticket.take()) {
					taken.add(ticket);
					frames.add(ticket.frame);
				}
			}
			if (frames.isEmpty()) {
				sent();
				return;
			}
			CompletableFuture<Void> written;
			try {
				written = sink.publish(gatewayId, frames);
			}
			catch (RuntimeException ex) {
				written = CompletableFuture.failedFuture(ex);
			}
			written.whenComplete((ignored, error) -> {
				// the runs hear first, so the frames they queue in reply join the next
				// write
				for (Ticket ticket : taken) {
					if (error == null) {
						ticket.complete(null);
					}
					else {
						ticket.completeExceptionally(error);
					}
				}
				sent();
			});
		}

		private void sent() {
			List<Ticket> due;
			lock.lock();
			try {
				inFlight = false;
				due = dueOrWait();
			}
			finally {
				lock.unlock();
			}
			send(due);
		}

	}

}
