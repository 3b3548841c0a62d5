package io.stopline.core.schema;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The one Redis key and channel schema of Stopline. Every key a node reads or writes is
 * built here.
 *
 * <h2>Storage details</h2> Keys of one user share the hash tag {@code {u:<user>}}, keys
 * of one worker share {@code {w:<worker>}}, so every multi-key script touches a single
 * Redis Cluster slot. {@code <user>} is the JWT subject, percent-encoded outside
 * {@code [A-Za-z0-9._@|-]} so that it can never close a hash tag or form a glob;
 * {@code <conv>} is a validated conversation id (see {@link ConversationIds}).
 *
 * <pre>
 * # active run of a conversation (one field per conversation that has a run queued or running)
 * HSET    stopline:{u:alice}:runs c-42 '{"run":"r-1","state":"running","worker":"w-a","agent":"assistant","reply":"gw-1","queued":1767000000000,"started":1767000000123}'
 * HGETALL stopline:{u:alice}:runs                         # GET /v1/conversations/active: O(runs of alice)
 *
 * # a conversation's latest run (its generation): written by reserve, marked ended by the finish that ends it;
 * # a restore is refused unless it names the latest run and that run has not ended (or the latest ended and the
 * # history holds nothing of the restored run: a failover lost its reservation)
 * HSET    stopline:{u:alice}:last-run c-42 r-2              # reserved
 * HSET    stopline:{u:alice}:last-run c-42 ended:r-2        # finished
 *
 * # runs waiting for the active run of a conversation to end (on_active enqueue, interrupt, rollback), in order;
 * # the finish that ends the active run makes the first one active (record, user message, job) in the same script.
 * # An interrupt or rollback goes first and names the run it replaces ("after"); a stop drops entries
 * RPUSH   stopline:{u:alice}:conv:c-42:waiting '{"run":"r-3","mode":"enqueue","after":"","record":"{…}","message":"{…}","job":"{…}",…}'
 * LPUSH   stopline:{u:alice}:conv:c-42:waiting '{"run":"r-2","mode":"interrupt","after":"r-1",…}'
 *
 * # history of a conversation, newest activity index
 * RPUSH   stopline:{u:alice}:conv:c-42:messages '{"role":"user",...}'
 * ZADD    stopline:{u:alice}:conversations 1767000000000 c-42
 *
 * # a user's stop-rate token bucket (rate limit shared by every gateway; refilled on Redis's clock)
 * HSET    stopline:{u:alice}:stop-rate tokens 19 at 1767000000000
 * PEXPIRE stopline:{u:alice}:stop-rate 2000
 *
 * # "stopped within the last minute" marker (answers a double click with 200)
 * SET     stopline:{u:alice}:conv:c-42:stopped r-1 EX 60
 * # a stop for a client-chosen run id that has not arrived yet: its send is refused as stopped
 * SET     stopline:{u:alice}:conv:c-42:stop-before:r-9 '{"requestId":...,"reason":"user",...}' PX 60000
 *
 * # queued runs, for the sweep of runs queued without a job (a reserve whose reply timed out after it ran);
 * # written with the reservation (before it on Redis Cluster), removed by the claim or the queued finish
 * ZADD    stopline:queued 1767000000000 '["alice","c-42","r-1"]'
 * ZRANGEBYSCORE stopline:queued -inf 1766999940000 LIMIT 0 100
 *
 * # worker index: which runs a worker holds (for the reaper, no SCAN needed)
 * HSET    stopline:{w:w-a}:runs r-1 '["alice","c-42"]'
 *
 * # durable stop requests of a worker (written before the pub/sub signal, read on reconcile)
 * ZADD    stopline:{w:w-a}:stops 1767000000000 '{"runId":"r-1",...}'
 * PUBLISH stopline:{w:w-a}:stop  '{"runId":"r-1",...}'      # fast path, same payload
 *
 * # liveness
 * SET     stopline:{w:w-a}:alive 1 PX 10000                 # renewed every third of the TTL
 * ZADD    stopline:workers 1767000000000 w-a                 # known workers, for the reaper
 *
 * # work queue: gateways XADD, workers read with a consumer group
 * XADD       stopline:jobs * job '{"runId":"r-1",...}'
 * # made by the first worker (at start, and again after Redis lost its data) from the stream's beginning: jobs
 * # queued before it exists are read too
 * XGROUP     CREATE stopline:jobs workers 0 MKSTREAM
 * XREADGROUP GROUP workers w-a COUNT 16 BLOCK 1000 STREAMS stopline:jobs &gt;
 * # acknowledged and removed once its run is claimed or known not to run: inside the claim script (one Redis,
 * # Sentinel), or after it in one pipelined write (Redis Cluster)
 * XACK       stopline:jobs workers 1767000000000-0
 * XDEL       stopline:jobs 1767000000000-0
 *
 * # events for the gateway that holds the client's connection (terminal events, stop answers): the control plane
 * PUBLISH stopline:{g:g-1}:inbox '{"type":"run_stopped",...}'
 * # the same gateway's token frames, on their own channel and the data plane's own connections, so a busy token
 * # stream never delays a stop's confirmation
 * # (TokenFrames: T1, then per frame |len|run id|len|conversation id|index|count|epoch micros|len|text)
 * PUBLISH stopline:{g:g-1}:tokens 'T1|3|r-1|4|c-42|12|3|1767000000000000|18| every stop honest|3|r-7|...'
 *
 * # every event of a conversation, for the WebSocket streams watching it on any gateway
 * PUBLISH   stopline:{u:alice}:conv:c-42:events '{"type":"message_added",...}'
 * # a watched run's token frames there too, one per message, in the token channel's encoding
 * PUBLISH   stopline:{u:alice}:conv:c-42:events 'T1|3|r-1|4|c-42|12|3|1767000000000000|18| every stop honest'
 * SUBSCRIBE stopline:{u:alice}:conv:c-42:events            # while a socket on this gateway watches c-42
 *
 * # "a WebSocket watches this conversation": set by gateways while one is open (refreshed), read by the claim
 * # script (EXISTS, in the step that claims the run); unwatched runs publish their tokens to the gateway's token
 * # channel only
 * SET     stopline:{u:alice}:conv:c-42:watched 1 PX 60000
 *
 * # pause / resume commands for a worker (pub/sub only: a lost one is answered 202 and can be repeated)
 * PUBLISH stopline:{w:w-a}:control '{"action":"pause","runId":"r-1",...}'
 *
 * # a finished run's replay for resumed chat streams: its terminal event and where its frames end; written once
 * # by the worker's finish script when it records the outcome (before the end is announced), gone after
 * # stopline.resume.grace
 * SET     stopline:{u:alice}:conv:c-42:replay:r-1 '{"agentName":"assistant","terminal":{"type":"run_completed",...},"offsets":{"tokens":[1,3],"chars":[8,19]}}' PX 60000
 *
 * # WebSocket ticket: single use, bound to a user and a conversation; named by the SHA-256 of the ticket (hex), so
 * # reading Redis does not hand out live tickets. Any gateway takes it, atomically (a replay finds nothing)
 * SET    stopline:stream-ticket:9f86d0...0a08 '{"user":"alice","conversation":"c-42","expires":"…"}' PX 30000 NX
 * GETDEL stopline:stream-ticket:9f86d0...0a08
 *
 * # stop statistics: one hash of counters per hour (UTC), shared by every node, expired after 8 days
 * HINCRBY stopline:stats:h:2026112501 stop:confirmed 1
 * # the audit trail of stops: a capped stream, newest last
 * XADD    stopline:audit:stops MAXLEN ~ 100000 * entry '{"by":"alice","user":"alice","conversation":"c-42",...}'
 * </pre>
 */
public final class Keys {

	public static final String PREFIX = "stopline:";

	public static final String JOBS = PREFIX + "jobs";

	public static final String JOBS_GROUP = "workers";

	public static final String WORKERS = PREFIX + "workers";

	/**
	 * Queued runs by the time they were queued (members:
	 * {@code [user, conversation, run]}).
	 */
	public static final String QUEUED = PREFIX + "queued";

	/** The audit trail of stops (a capped stream). */
	public static final String STOP_AUDIT = PREFIX + "audit:stops";

	private static final Pattern SAFE_USER = Pattern.compile("[A-Za-z0-9._@|-]+");

	private Keys() {
	}

	static String userTag(String userId) {
		String safe = SAFE_USER.matcher(userId).matches() ? userId
				: URLEncoder.encode(userId, StandardCharsets.UTF_8).replace("*", "%2A").replace("+", "%20");
		return PREFIX + "{u:" + safe + "}";
	}

	static String workerTag(String workerId) {
		return PREFIX + "{w:" + workerId + "}";
	}

	public static String runs(String userId) {
		return userTag(userId) + ":runs";
	}

	/**
	 * The latest run of each of the user's conversations (a hash: conversation → run id,
	 * {@code ended:<run id>} once finished), the generation fence of
	 * {@code ConversationRegistry#restore}.
	 */
	public static String lastRuns(String userId) {
		return userTag(userId) + ":last-run";
	}

	/** The user's stop-rate token bucket (a hash: tokens, at). */
	public static String stopRate(String userId) {
		return userTag(userId) + ":stop-rate";
	}

	public static String conversations(String userId) {
		return userTag(userId) + ":conversations";
	}

	public static String messages(String userId, String conversationId) {
		return conversationKey(userId, conversationId, "messages");
	}

	public static String stopped(String userId, String conversationId) {
		return conversationKey(userId, conversationId, "stopped");
	}

	/**
	 * The runs waiting for the conversation's active run to end (a list of entries, the
	 * next first).
	 */
	public static String waiting(String userId, String conversationId) {
		return conversationKey(userId, conversationId, "waiting");
	}

	/**
	 * The tombstone of a run id stopped before its send arrived (a string: the stop
	 * request, with a TTL).
	 */
	public static String stopBefore(String userId, String conversationId, String runId) {
		return conversationKey(userId, conversationId, "stop-before:" + runId);
	}

	/** {@code stopline:{u:<user>}:conv:<id>:<what>}, the id validated first. */
	private static String conversationKey(String userId, String conversationId, String what) {
		return userTag(userId) + ":conv:" + ConversationIds.require(conversationId) + ":" + what;
	}

	public static String workerRuns(String workerId) {
		return workerTag(workerId) + ":runs";
	}

	public static String workerStops(String workerId) {
		return workerTag(workerId) + ":stops";
	}

	public static String workerAlive(String workerId) {
		return workerTag(workerId) + ":alive";
	}

	public static String workerStopChannel(String workerId) {
		return workerTag(workerId) + ":stop";
	}

	public static String conversationEvents(String userId, String conversationId) {
		return conversationKey(userId, conversationId, "events");
	}

	/**
	 * A finished run's replay (see {@link io.stopline.core.run.RunReplays}); the run id
	 * is checked like a conversation id (server-made ids are {@code run-<uuid>}).
	 */
	public static String runReplay(String userId, String conversationId, String runId) {
		return conversationKey(userId, conversationId, "replay:" + ConversationIds.require(runId));
	}

	public static String conversationWatched(String userId, String conversationId) {
		return conversationKey(userId, conversationId, "watched");
	}

	public static String workerControlChannel(String workerId) {
		return workerTag(workerId) + ":control";
	}

	public static String gatewayTokens(String gatewayId) {
		return PREFIX + "{g:" + gatewayId + "}:tokens";
	}

	/**
	 * A WebSocket ticket, by the hex SHA-256 of the ticket (a key of its own: the socket
	 * that presents it names no user).
	 */
	public static String streamTicket(String ticketDigest) {
		return PREFIX + "stream-ticket:" + ticketDigest;
	}

	/** The stop statistics of one hour ({@code yyyyMMddHH}, UTC): a hash of counters. */
	public static String statsHour(String hour) {
		return PREFIX + "stats:h:" + hour;
	}

	public static String gatewayInbox(String gatewayId) {
		return PREFIX + "{g:" + gatewayId + "}:inbox";
	}

}
