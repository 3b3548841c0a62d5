package io.stopline.worker.model;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.core.ResolvableType;
import org.springframework.core.codec.Decoder;
import org.springframework.core.codec.StringDecoder;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.MediaType;
import org.springframework.http.codec.json.JacksonJsonDecoder;
import org.springframework.util.MimeType;

/**
 * Reads an NDJSON stream (Ollama's) a line at a time, each line one JSON value. Spring's
 * own NDJSON decoder tokenizes the body as one stream of JSON values, so a broken line
 * ({@code {"message":{"content":}) reads as the start of a value still to come: the run
 * then ends as a stall instead of a malformed stream.
 */
final class NdjsonLines implements Decoder<Object> {

	private final StringDecoder lines = StringDecoder.allMimeTypes(List.of("\n"), false);

	private final JacksonJsonDecoder json = new JacksonJsonDecoder();

	@Override
	public boolean canDecode(ResolvableType elementType, @Nullable MimeType mimeType) {
		return mimeType != null && MediaType.APPLICATION_NDJSON.isCompatibleWith(mimeType)
				&& json.canDecode(elementType, MediaType.APPLICATION_JSON);
	}

	@Override
	public Flux<Object> decode(Publisher<DataBuffer> input, ResolvableType elementType, @Nullable MimeType mimeType,
			@Nullable Map<String, Object> hints) {
		// a last line without its newline is a cut stream (or a stop's), not a value
		return lines.decode(input, ResolvableType.forClass(String.class), mimeType, hints)
			.filter(line -> line.endsWith("\n") && !line.isBlank())
			.map(line -> json.decode(
					DefaultDataBufferFactory.sharedInstance.wrap(line.getBytes(StandardCharsets.UTF_8)), elementType,
					MediaType.APPLICATION_JSON, hints));
	}

	@Override
	public Mono<Object> decodeToMono(Publisher<DataBuffer> input, ResolvableType elementType,
			@Nullable MimeType mimeType, @Nullable Map<String, Object> hints) {
		return decode(input, elementType, mimeType, hints).next();
	}

	@Override
	public List<MimeType> getDecodableMimeTypes() {
		return List.of(MediaType.APPLICATION_NDJSON);
	}

}
