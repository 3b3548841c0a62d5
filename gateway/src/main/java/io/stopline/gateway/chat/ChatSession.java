package io.stopline.gateway.chat;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import io.stopline.protocol.RunEvent;
import io.stopline.registry.RunRecord;
import org.jspecify.annotations.Nullable;

/** A chat request in flight on this gateway: its run and the events that arrive for it. */
final class ChatSession {

    private final RunRecord run;
    private final BlockingQueue<RunEvent> events;

    ChatSession(RunRecord run, BlockingQueue<RunEvent> events) {
        this.run = run;
        this.events = events;
    }

    RunRecord run() {
        return run;
    }

    String conversationId() {
        return run.conversationId();
    }

    /** The next event, or null when none came within {@code wait}. */
    @Nullable RunEvent poll(Duration wait) throws InterruptedException {
        return events.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }
}
