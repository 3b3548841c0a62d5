package io.stopline.protocol;

import java.time.Instant;
import java.util.List;

import io.stopline.protocol.RunEvent.TokenGenerated;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class TokenFramesTests {

	private static final Instant AT = Instant.parse("2026-12-04T16:00:00.123456Z");

	@Test
	void aBatchComesBackFrameForFrameInOrder() {
		List<TokenGenerated> frames = List.of(new TokenGenerated("r-1", "c-1", 0, "Hello", 1, AT),
				new TokenGenerated("r-2", "c|2", 7, " wo|r|ld\n\"{}\" é 🙂", 3, AT.plusMillis(5)),
				new TokenGenerated("r-1", "c-1", 1, "", 1, AT));

		assertThat(TokenFrames.decode(TokenFrames.encode(frames))).isEqualTo(frames);
	}

	@Test
	void aSingleJsonFrameOfAnEarlierNodeIsRead() {
		TokenGenerated frame = new TokenGenerated("r-1", "c-1", 4, "hi", 2, AT);

		assertThat(TokenFrames.decode(Json.write(frame))).containsExactly(frame);
	}

	@Test
	void whatIsNoBatchIsRefused() {
		TokenGenerated frame = new TokenGenerated("r-1", "c-1", 4, "hello", 1, AT);
		String encoded = TokenFrames.encode(List.of(frame));

		assertThatIllegalArgumentException().isThrownBy(() -> TokenFrames.decode("nonsense"));
		assertThatIllegalArgumentException()
			.isThrownBy(() -> TokenFrames.decode(encoded.substring(0, encoded.length() - 2)));
		assertThatIllegalArgumentException().isThrownBy(() -> TokenFrames.decode(encoded + "|x"));
		assertThatIllegalArgumentException()
			.isThrownBy(() -> TokenFrames.decode(Json.write(new RunEvent.RunPaused("r-1", "c-1", AT))));
	}

	@Test
	void aConversationsChannelCarriesJsonEventsAndFrames() {
		TokenGenerated frame = new TokenGenerated("r-1", "c-1", 4, "hi", 2, AT);
		RunEvent paused = new RunEvent.RunPaused("r-1", "c-1", AT);

		assertThat(TokenFrames.decodeEvents(TokenFrames.encode(List.of(frame)))).containsExactly(frame);
		assertThat(TokenFrames.decodeEvents(Json.write(frame))).containsExactly(frame);
		assertThat(TokenFrames.decodeEvents(Json.write(paused))).containsExactly(paused);
		assertThatIllegalArgumentException().isThrownBy(() -> TokenFrames.decodeEvents("marker"));
	}

}
