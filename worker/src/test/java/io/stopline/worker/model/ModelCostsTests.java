package io.stopline.worker.model;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import io.stopline.testing.FakeUpstream;
import io.stopline.testing.FakeUpstream.Behaviour;
import io.stopline.testing.FakeUpstream.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import static io.stopline.worker.model.ModelRuns.generate;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Measurements for the provider notes, not a check (run with
 * {@code -Dstopline.measure=true}): per client, the stop to upstream FIN time over
 * several runs (streaming and silent upstream), and the CPU a 100,000-token burst costs
 * per token, the fake upstream's own writing subtracted (measured with a raw socket
 * reader).
 */
@EnabledIfSystemProperty(named = "stopline.measure", matches = "true")
class ModelCostsTests {

	private static final int RUNS = 5;

	private static final int TOKENS = 100_000;

	private record Client(String name, Protocol protocol, Function<FakeUpstream, ChatModel> model) {
	}

	private static final List<Client> CLIENTS = List.of(
			new Client("openai hand-written", Protocol.OPENAI, upstream -> handWritten(upstream)),
			new Client("openai Spring AI", Protocol.OPENAI, upstream -> springAi(Protocol.OPENAI, upstream)),
			new Client("ollama Spring AI", Protocol.OLLAMA, upstream -> springAi(Protocol.OLLAMA, upstream)),
			new Client("anthropic Spring AI", Protocol.ANTHROPIC, upstream -> springAi(Protocol.ANTHROPIC, upstream)));

	@Test
	void stopToUpstreamFin() throws Exception {
		for (Client client : CLIENTS) {
			for (Behaviour behaviour : List.of(new Behaviour.Stream(-1, Duration.ofMillis(20)),
					new Behaviour.Stall(2))) {
				List<Double> millis = new ArrayList<>();
				for (int i = 0; i < RUNS; i++) {
					try (FakeUpstream upstream = FakeUpstream.start(client.protocol())) {
						millis.add(ModelRuns.stopAndAwaitDisconnect(client.model().apply(upstream), upstream, behaviour,
								client.name()));
					}
				}
				System.out.printf("[measure] %-20s stop -> FIN %-9s: %s ms, median %.2f ms%n", client.name(),
						(behaviour instanceof Behaviour.Stall) ? "(silent)" : "", format(millis), median(millis));
			}
		}
	}

	@Test
	void cpuPerToken() throws Exception {
		for (Client client : CLIENTS) {
			try (FakeUpstream upstream = FakeUpstream.start(client.protocol())) {
				ChatModel model = client.model().apply(upstream);
				// warm-up (JIT), then the measured bursts
				for (int i = 0; i < 2; i++) {
					burst(model, upstream, TOKENS);
					rawDrain(upstream, TOKENS);
				}
				List<Double> costs = new ArrayList<>();
				for (int i = 0; i < RUNS; i++) {
					double raw = rawDrain(upstream, TOKENS);
					costs.add(burst(model, upstream, TOKENS) - raw);
				}
				System.out.printf("[measure] %-20s CPU per token (client only): %s ns, median %.0f ns%n", client.name(),
						format(costs), median(costs));
			}
		}
	}

	/** Process CPU per token of a burst through the model. */
	private static double burst(ChatModel model, FakeUpstream upstream, int tokens) throws Exception {
		upstream.behave(new Behaviour.Stream(tokens, Duration.ZERO));
		long cpu = processCpuNanos();
		ModelRuns.Generation generation = generate(model);
		assertThat(generation.outcome().get(60, TimeUnit.SECONDS)).isNull();
		assertThat(generation.tokens()).hasSize(tokens + 1);
		return (processCpuNanos() - cpu) / (double) tokens;
	}

	/** Process CPU per token of the same burst read by a raw socket: the fake's share. */
	private static double rawDrain(FakeUpstream upstream, int tokens) throws Exception {
		upstream.behave(new Behaviour.Stream(tokens, Duration.ZERO));
		long cpu = processCpuNanos();
		URI origin = URI.create(upstream.origin());
		try (Socket socket = new Socket(origin.getHost(), origin.getPort())) {
			OutputStream out = socket.getOutputStream();
			out.write("POST /raw HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}".getBytes(StandardCharsets.UTF_8));
			out.flush();
			InputStream in = socket.getInputStream();
			byte[] buffer = new byte[64 * 1024];
			while (in.read(buffer) != -1) {
				// the fake closes after the answer
			}
		}
		return (processCpuNanos() - cpu) / (double) tokens;
	}

	private static long processCpuNanos() {
		return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
			.getProcessCpuTime();
	}

	private static ChatModel handWritten(FakeUpstream upstream) {
		ModelProperties.Upstream config = new ModelProperties.Upstream(ModelProperties.Provider.OPENAI,
				URI.create(upstream.baseUrl()), "test-key", "test-model", Duration.ofSeconds(2),
				Duration.ofSeconds(30));
		return new OpenAiCompatibleModel(config, HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build());
	}

	private static ChatModel springAi(Protocol protocol, FakeUpstream upstream) {
		return SpringAiModelTests.model(protocol, upstream, Duration.ofSeconds(30));
	}

	private static double median(List<Double> values) {
		List<Double> sorted = values.stream().sorted().toList();
		return sorted.get(sorted.size() / 2);
	}

	private static String format(List<Double> values) {
		return values.stream().map(value -> String.format("%.2f", value)).toList().toString();
	}

}
