package io.stopline.registry;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * The Lua scripts of the registry, loaded once. Spring Data runs them with EVALSHA and
 * falls back to EVAL.
 */
final class LuaScripts {

	static final RedisScript<String> RESERVE = load("reserve", String.class);
	static final RedisScript<String> CLAIM = load("claim", String.class);
	static final RedisScript<Long> FINISH = load("finish", Long.class);
	static final RedisScript<String> STOP_TARGET = load("stop-target", String.class);
	static final RedisScript<Long> SIGNAL_STOP = load("signal-stop", Long.class);
	static final RedisScript<String> RESTORE = load("restore", String.class);
	static final RedisScript<String> HEARTBEAT = load("heartbeat", String.class);
	static final RedisScript<Long> SET_STATE = load("set-state", Long.class);

	static final RedisScript<Long> STATS_ADD = load("stats-add", Long.class);

	private LuaScripts() {
	}

	private static <T> RedisScript<T> load(String name, Class<T> resultType) {
		try (InputStream in = LuaScripts.class.getResourceAsStream(name + ".lua")) {
			if (in == null) {
				throw new IllegalStateException("missing script " + name + ".lua");
			}
			return new DefaultRedisScript<>(new String(in.readAllBytes(), StandardCharsets.UTF_8), resultType);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
