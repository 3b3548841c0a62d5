package io.stopline.core;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Trust for {@code rediss://} against a server whose certificate a private CA signed
 * ({@code stopline.redis.ssl.*}).
 *
 * @param truststore a URL or file path of a PKCS12/JKS store; unset: the JVM's trust
 * @param truststorePassword the store's password
 * @param verifyHostname whether the server's name must match its certificate (false
 * checks the chain only)
 */
@ConfigurationProperties("stopline.redis.ssl")
public record RedisSslProperties(@Nullable String truststore, @Nullable String truststorePassword,
		@DefaultValue("true") boolean verifyHostname) {

}
