package io.stopline.core.schema;

import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Conversation ids: 1 to 128 characters of {@code [A-Za-z0-9._-]}, starting with a letter
 * or digit. Nothing that could reach a Redis glob ({@code *?[}), close a hash tag
 * ({@code {}}), or walk a path ({@code /}) is accepted, so no key is ever built from a
 * rejected input.
 */
public final class ConversationIds {

	public static final String RULE = "1-128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit";

	private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

	private ConversationIds() {
	}

	public static boolean isValid(String id) {
		return id != null && VALID.matcher(id).matches();
	}

	public static String require(String id) {
		if (!isValid(id)) {
			throw new IllegalArgumentException("invalid conversation id: " + RULE);
		}
		return id;
	}

	public static String newId() {
		return UUID.randomUUID().toString();
	}

}
