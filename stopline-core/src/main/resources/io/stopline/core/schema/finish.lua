-- End a run: remove its ownership record and write its outcome to the history, only if the record still
-- belongs to this run id (and, when ARGV[3] is set, is still in that state). A late or duplicated finish
-- never touches a newer run of the same conversation. Whether or not it ended the run, the run's worker index
-- entry and the stop requests it settles are removed (when the worker's keys are given); only when it ended the
-- run are the events given published, in order: the confirmation leaves in the same round trip as the write, and
-- a finish fenced out announces nothing (watchers never see a message the history does not hold). The worker's keys and
-- the channels live in other slots: single Redis and Sentinel only; on Redis Cluster the caller does those
-- steps itself.
-- The finish that ends the run marks the conversation's latest generation ended, so the run is never restored.
-- It also starts the conversation's first waiting run (KEYS[6], see reserve.lua) in the same step, so the next run
-- exists only once this one's outcome is recorded (two runs of a conversation never generate at once) and a
-- waiting message is never lost: its record becomes the active one (queued), its user message follows this run's
-- outcome, it becomes the latest generation, and its job is added to the entry's stream (single Redis and
-- Sentinel: the entry names the stream and the queued-runs zset; on Redis Cluster they are empty and the entry is
-- answered, for the caller to add the job). When that run replaces this one with 'rollback', this run leaves no
-- trace: its outcome is not written and its user message is removed.
-- When it ends the run, the run's replay (what a resumed chat stream of it needs, RunReplays) is written before the
-- events leave, so a client that saw the end and resumes finds it; it is in the user's slot (every topology).
-- KEYS: 1 runs hash, 2 messages list, 3 conversations zset, 4 stopped marker, 5 latest-run hash,
--       6 the conversation's waiting list, optional: 7 the run's replay key (when a replay is given), then the
--       worker's index hash and the worker's stop set
-- ARGV: 1 conversation id, 2 run id, 3 required state or '', 4 now (epoch millis),
--       5 stopped-marker TTL in seconds (0: not a stop), 6 n = number of history messages,
--       7 .. 6+n history messages (JSON), then m = number of settled stop requests and the m requests (exact
--       stop-set members), then the replay's JSON ('' for none) and its TTL in milliseconds, then any number of
--       publications: event JSON, channel count c, c channels
-- Answers {1} when it ended the run, {0} when fenced out; {1, entry} when it started a waiting run whose job the
-- caller must add (Redis Cluster).
local started = nil
local started_raw = nil
local rolled_back = false

local function remove_user_message(run_id)
  local length = redis.call('LLEN', KEYS[2])
  local from = math.max(0, length - 64)
  local recent = redis.call('LRANGE', KEYS[2], from, -1)
  for i = #recent, 1, -1 do
    local message = cjson.decode(recent[i])
    if message.runId == run_id and message.role == 'user' then
      redis.call('LSET', KEYS[2], from + i - 1, '\0removed')
      redis.call('LREM', KEYS[2], -1, '\0removed')
      return
    end
  end
end

local function start(entry)
  redis.call('LPOP', KEYS[6])
  redis.call('HSET', KEYS[1], ARGV[1], entry.record)
  local length = redis.call('RPUSH', KEYS[2], entry.message)
  local max = tonumber(entry.maxHistory)
  if max > 0 and length > max then
    local first = redis.call('LINDEX', KEYS[2], 0)
    redis.call('LTRIM', KEYS[2], length - max + 1, -1)
    redis.call('LPUSH', KEYS[2], first)
  end
  redis.call('HSET', KEYS[5], ARGV[1], entry.run)
  if entry.jobs ~= '' then
    redis.call('XADD', entry.jobs, '*', 'job', entry.job)
    redis.call('ZADD', entry.queued, ARGV[4], entry.queuedEntry)
  end
end

local function ended()
  local current = redis.call('HGET', KEYS[1], ARGV[1])
  if not current then
    return 0
  end
  local run = cjson.decode(current)
  if run.run ~= ARGV[2] then
    return 0
  end
  if ARGV[3] ~= '' and run.state ~= ARGV[3] then
    return 0
  end
  local head = redis.call('LINDEX', KEYS[6], 0)
  local next_run = head and cjson.decode(head)
  rolled_back = next_run and next_run.mode == 'rollback' and next_run.after == ARGV[2]
  redis.call('HDEL', KEYS[1], ARGV[1])
  if rolled_back then
    remove_user_message(ARGV[2])
  else
    append_messages(KEYS[2], 7, 6 + tonumber(ARGV[6]))
  end
  mark_ended(KEYS[3], KEYS[4], KEYS[5], ARGV[1], ARGV[2], ARGV[4], ARGV[5])
  if next_run then
    start(next_run)
    started = next_run
    started_raw = head
  end
  return 1
end
local result = ended()
local i = 7 + tonumber(ARGV[6])
local settled = tonumber(ARGV[i])
local replay = ARGV[i + 1 + settled]
local worker = 7
if replay ~= '' then
  worker = 8
end
if KEYS[worker] then
  -- the index may shrink only once the record is gone: it is, or it belongs to another run
  redis.call('HDEL', KEYS[worker], ARGV[2])
  for s = i + 1, i + settled do
    redis.call('ZREM', KEYS[worker + 1], ARGV[s])
  end
end
if result == 1 and replay ~= '' then
  redis.call('SET', KEYS[7], replay, 'PX', ARGV[i + 2 + settled])
end
if result == 1 then
  publish_from(i + 3 + settled)
end
if started then
  -- the conversation's channel shares the user's slot: published here on every topology
  if rolled_back then
    local removed = cjson.decode(started.rolledBack)
    removed.runId = ARGV[2]
    redis.call(started.publish, started.channel, cjson.encode(removed))
  end
  redis.call(started.publish, started.channel, started.added)
  if started.jobs == '' then
    return {result, started_raw}
  end
end
return {result}
