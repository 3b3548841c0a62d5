package io.stopline.protocol;

import java.time.Instant;

import io.stopline.core.run.RunReplays;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TokenOffsetsTests {

	@Test
	void aFrameEndMapsToItsPositionInTheAnswerAndNothingElseDoes() {
		TokenOffsets.Recorder recorder = new TokenOffsets.Recorder();
		// "Stop" | "line keeps" | " every" (1, 2 and 1 tokens)
		recorder.add(1, 4);
		recorder.add(2, 10);
		recorder.add(1, 6);
		TokenOffsets offsets = recorder.upTo(4);
		assertThat(offsets.totalTokens()).isEqualTo(4);
		assertThat(offsets.charsAt(0)).isZero();
		assertThat(offsets.charsAt(1)).isEqualTo(4);
		assertThat(offsets.charsAt(2)).as("inside a frame").isEqualTo(-1);
		assertThat(offsets.charsAt(3)).isEqualTo(14);
		assertThat(offsets.charsAt(4)).isEqualTo(20);
		assertThat(offsets.charsAt(5)).as("past the end").isEqualTo(-1);
		assertThat(recorder.upTo(3).totalTokens()).as("only whole frames").isEqualTo(3);
		assertThat(recorder.upTo(2).totalTokens()).isEqualTo(1);
		assertThat(TokenOffsets.NONE.charsAt(0)).isZero();
	}

	@Test
	void theRecorderGrowsPastItsFirstArrays() {
		TokenOffsets.Recorder recorder = new TokenOffsets.Recorder();
		for (int i = 0; i < 1000; i++) {
			recorder.add(1, 2);
		}
		assertThat(recorder.upTo(1000).charsAt(1000)).isEqualTo(2000);
	}

	@Test
	void snapshotsAndReplaysSurviveTheirJson() {
		TokenOffsets offsets = new TokenOffsets(new int[] { 1, 2 }, new int[] { 4, 10 });
		Instant at = Instant.parse("2026-12-04T10:00:00Z");
		RunEvent.RunSnapshot snapshot = new RunEvent.RunSnapshot("r-1", "c-1", "Stopline keeps", 3, at, offsets);
		RunEvent.RunSnapshot read = (RunEvent.RunSnapshot) Json.read(Json.write(snapshot), RunEvent.class);
		assertThat(read.offsets().charsAt(3)).isEqualTo(14);
		RunEvent.RunSnapshot old = (RunEvent.RunSnapshot) Json
			.read("{\"type\":\"run_snapshot\",\"runId\":\"r-1\",\"conversationId\":\"c-1\",\"content\":\"x\","
					+ "\"tokens\":1,\"at\":\"2026-12-04T10:00:00Z\"}", RunEvent.class);
		assertThat(old.offsets()).as("from a worker that sends none").isNull();

		RunReplays.Replay replay = new RunReplays.Replay("assistant", at,
				new RunEvent.RunStopped("r-1", "c-1", StopReason.USER, "Stopline keeps", 3, at), offsets);
		RunReplays.Replay back = Json.read(Json.write(replay), RunReplays.Replay.class);
		assertThat(back.terminal()).isEqualTo(replay.terminal());
		assertThat(back.tokens()).isEqualTo(3);
		assertThat(back.queuedAt()).isEqualTo(at);
	}

}
