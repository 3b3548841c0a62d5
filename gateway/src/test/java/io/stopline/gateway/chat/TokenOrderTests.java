package io.stopline.gateway.chat;

import java.time.Instant;

import io.stopline.protocol.RunEvent;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A stream's frames in the model's order, whatever order they arrive in. */
class TokenOrderTests {

	private static RunEvent.TokenGenerated frame(int index, String text, int count) {
		return new RunEvent.TokenGenerated("run-1", "c-1", index, text, count, Instant.EPOCH);
	}

	@Test
	void framesInOrderPassAtOnce() {
		TokenOrder order = new TokenOrder();

		assertThat(order.accept(frame(0, "Stop", 1))).isEqualTo("Stop");
		assertThat(order.accept(frame(1, "line keeps", 2))).isEqualTo("line keeps");
		assertThat(order.next()).isEqualTo(3);
		assertThat(order.rest("Stopline keeps every stop")).isEqualTo(" every stop");
	}

	@Test
	void anEarlyFrameWaitsForTheOnesBeforeIt() {
		TokenOrder order = new TokenOrder();

		assertThat(order.accept(frame(0, "a", 1))).isEqualTo("a");
		assertThat(order.accept(frame(3, "d", 1))).isEmpty();
		assertThat(order.accept(frame(2, "c", 1))).isEmpty();
		assertThat(order.accept(frame(1, "b", 1))).isEqualTo("bcd");
		assertThat(order.accept(frame(4, "e", 1))).isEqualTo("e");
		assertThat(order.next()).isEqualTo(5);
		assertThat(order.rest("abcde")).isEmpty();
	}

	@Test
	void aFrameDeliveredAlreadyIsDroppedAndAFrameInOrderDoesNotOvertakeOnesWaiting() {
		TokenOrder order = new TokenOrder();

		assertThat(order.accept(frame(0, "a", 1))).isEqualTo("a");
		assertThat(order.accept(frame(0, "a", 1))).isEmpty();
		assertThat(order.accept(frame(2, "c", 1))).isEmpty();
		assertThat(order.accept(frame(1, "b", 1))).isEqualTo("bc");
		assertThat(order.rest("abc")).isEmpty();
	}

	@Test
	void aSnapshotContinuesWithTheFramesAfterIt() {
		TokenOrder order = new TokenOrder();

		assertThat(order.accept(frame(0, "a", 1))).isEqualTo("a");
		assertThat(order.accept(frame(4, "e", 1))).isEmpty();
		assertThat(order.snapshot("abcd", 4)).isEqualTo("bcde");
		assertThat(order.accept(frame(5, "f", 1))).isEqualTo("f");
		assertThat(order.next()).isEqualTo(6);
	}

}
