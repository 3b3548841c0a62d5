package io.stopline.protocol;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * The closed vocabularies keep the wire names the scripts, the history and clients have
 * always used, and refuse anything else.
 */
class VocabularyTests {

	@Test
	void wireNamesAreTheOnesOnTheWire() {
		assertThat(RunState.values()).extracting(RunState::wireName).containsExactly("queued", "running", "paused");
		assertThat(RunStatus.values()).extracting(RunStatus::wireName)
			.containsExactly("complete", "stopped", "failed", "interrupted");
		assertThat(StopReason.values()).extracting(StopReason::wireName)
			.contains("user", "stop_all", "admin", "timeout", "shutdown", "lost");
	}

	@Test
	void eachReadsBackFromJsonAndUnknownNamesAreRefused() {
		for (RunState state : RunState.values()) {
			assertThat(Json.read(Json.write(state), RunState.class)).isEqualTo(state);
		}
		for (RunStatus status : RunStatus.values()) {
			assertThat(Json.read(Json.write(status), RunStatus.class)).isEqualTo(status);
			assertThat(RunStatus.of(status.wireName())).isEqualTo(status);
		}
		assertThatIllegalArgumentException().isThrownBy(() -> RunState.of("sleeping"));
		assertThatIllegalArgumentException().isThrownBy(() -> RunStatus.of("done"));
	}

}
