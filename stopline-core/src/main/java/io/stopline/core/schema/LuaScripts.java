package io.stopline.core.schema;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * The Lua scripts of the registry, loaded once. Spring Data runs them with EVALSHA and
 * falls back to EVAL.
 */
public final class LuaScripts {

	public static final RedisScript<String> RESERVE = load("reserve", String.class);

	@SuppressWarnings("rawtypes")
	public static final RedisScript<List> CLAIM = load("claim", List.class, "publish");

	@SuppressWarnings("rawtypes")
	public static final RedisScript<List> FINISH = load("finish", List.class, "publish", "outcome");

	public static final RedisScript<String> STOP_TARGET = load("stop-target", String.class);

	public static final RedisScript<Long> SIGNAL_STOP = load("signal-stop", Long.class);

	@SuppressWarnings("rawtypes")
	public static final RedisScript<List> STOP_REQUEST = load("stop-request", List.class, "permit");

	public static final RedisScript<Long> TAKE_PERMIT = load("take-permit", Long.class, "permit");

	public static final RedisScript<String> RESTORE = load("restore", String.class, "outcome");

	public static final RedisScript<String> HEARTBEAT = load("heartbeat", String.class);

	public static final RedisScript<Long> SET_STATE = load("set-state", Long.class);

	public static final RedisScript<Long> STATS_ADD = load("stats-add", Long.class);

	public static final RedisScript<Long> AUDIT_ADD = load("audit-add", Long.class);

	private LuaScripts() {
	}

	/** A script, after the libraries (local functions) it calls. */
	private static <T> RedisScript<T> load(String name, Class<T> resultType, String... libraries) {
		StringBuilder source = new StringBuilder();
		for (String library : libraries) {
			source.append(read(library)).append('\n');
		}
		return new DefaultRedisScript<>(source.append(read(name)).toString(), resultType);
	}

	private static String read(String name) {
		try (InputStream in = LuaScripts.class.getResourceAsStream(name + ".lua")) {
			if (in == null) {
				throw new IllegalStateException("missing script " + name + ".lua");
			}
			return new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
