package io.stopline.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import org.jspecify.annotations.Nullable;

/**
 * Why a run was stopped: the one vocabulary for every place that records, counts, audits
 * or explains a stop. On the wire (JSON, Redis, metrics tags, the audit trail) each
 * reason is its {@link #wireName()}, unchanged from the strings used before.
 */
public enum StopReason {

	/** the user stopped the conversation */
	USER("user", Origin.USER, "Conversation stopped by user."),
	/** the user stopped all their conversations (or a list of them) */
	STOP_ALL("stop_all", Origin.USER, "Conversation stopped by user."),
	/** an administrator stopped it */
	ADMIN("admin", Origin.ADMIN, "Conversation stopped by an administrator."),
	/** it ran (or stayed paused) past its time limit */
	TIMEOUT("timeout", Origin.SYSTEM, "Conversation stopped: it ran past its time limit."),
	/** the worker running it shut down */
	SHUTDOWN("shutdown", Origin.SYSTEM, "Conversation stopped: the server running it shut down."),
	/** the worker lost its hold on the run (reaped, replaced, cut off from Redis) */
	LOST("lost", Origin.SYSTEM, "Conversation stopped: its run was lost.");

	/** Who decided the stop. */
	public enum Origin {

		/** the user, through the stop API: counted in the user-stop statistics */
		USER,
		/** an administrator, audited as the admin */
		ADMIN,
		/** the worker itself: audited by the worker as {@code system} */
		SYSTEM

	}

	private final String wireName;

	private final Origin origin;

	private final String notice;

	StopReason(String wireName, Origin origin, String notice) {
		this.wireName = wireName;
		this.origin = origin;
		this.notice = notice;
	}

	/** The name in JSON, Redis, metric tags and the audit trail. */
	@JsonValue
	public String wireName() {
		return wireName;
	}

	public Origin origin() {
		return origin;
	}

	/** A stop the user asked for (single or stop-all), not the system or an admin. */
	public boolean byUser() {
		return origin == Origin.USER;
	}

	/**
	 * A stop the worker decided itself (the worker audits it; gateways audit the rest).
	 */
	public boolean bySystem() {
		return origin == Origin.SYSTEM;
	}

	/** The stop notice that follows the partial answer in the history. */
	public String notice() {
		return notice;
	}

	/** Parses a wire name; an unknown one is an error (reasons are a closed set). */
	@JsonCreator
	public static StopReason of(String wireName) {
		for (StopReason reason : values()) {
			if (reason.wireName.equals(wireName)) {
				return reason;
			}
		}
		throw new IllegalArgumentException("unknown stop reason '" + wireName + "'");
	}

	/** Parses a wire name read back from storage, where it may be absent. */
	public static @Nullable StopReason ofNullable(@Nullable String wireName) {
		return wireName == null ? null : of(wireName);
	}

	@Override
	public String toString() {
		return wireName;
	}

}
