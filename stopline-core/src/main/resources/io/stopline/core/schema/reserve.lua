-- Reserve a conversation for a new run, unless it has one: HSETNX semantics plus the history append,
-- in one step so a second request can never slip between the check and the write. The history is bounded
-- here, where it grows: beyond ARGV[7] messages it keeps its first (the conversation's title) and the newest.
-- The run becomes the conversation's latest generation (KEYS[5]), which fences any restore of an older run.
-- A run id the client chose may have been stopped before its send arrived (stop-request.lua left a tombstone):
-- then nothing is reserved and the send is answered as a stopped run. A send whose run id is the conversation's
-- active run joins it; one whose run id already ended is answered with that run's end.
-- A busy conversation and on_active (ARGV[8]) other than 'reject': the run waits in the conversation's waiting list
-- (KEYS[7]) instead, and the finish that ends the active run starts it (finish.lua). 'enqueue' appends it, up to
-- ARGV[10] waiting runs; 'interrupt' and 'rollback' put it first, naming the run it replaces ("after"), unless
-- another message already replaces that run (exactly one replacement wins). Nothing else changes here: the
-- replacement's user message enters the history when it starts, after the replaced run's outcome.
-- KEYS: 1 runs hash, 2 messages list, 3 conversations zset, 4 stopped marker, 5 latest-run hash,
--       6 the run id's stop tombstone, 7 the conversation's waiting list,
--       optional: 8 the queued-runs zset (single Redis and Sentinel; on Redis Cluster the caller adds the entry
--       before and removes it when refused),
--       9 the job stream (with KEYS[8]; issue 15: the run is announced and its job queued in the same step, one
--       round trip fewer per chat start; on Redis Cluster, or without it, the caller does both after a reservation)
-- ARGV: 1 conversation id, 2 run record JSON, 3 user message JSON, 4 now (epoch millis),
--       5 the most active runs the user may have, 6 the queued-runs entry (with KEYS[8]),
--       7 the most history messages to keep (0 or absent: all), 8 on_active ('reject' when absent),
--       9 the waiting entry JSON ("after" empty), 10 the most runs that may wait per conversation,
--       with KEYS[9]: 11 the job JSON, 12 the user message's announcement (event JSON) and 13 its channel,
--       published before the job so watchers hear it first
-- Answers nil when reserved, the active record when the conversation is busy (the caller compares its run id),
-- '#<count>' when the user is at the cap, '!<stop request JSON>' when the run id was stopped before it arrived,
-- '=' when the run id is the conversation's latest run and has ended, '+<active record>' when the run waits behind
-- it, '@<entry>' when the run id is waiting already, '%<count>' when the waiting list is full, '^<entry>' when
-- another waiting run already replaces the active one.
local tombstone = redis.call('GET', KEYS[6])
if tombstone then
  return '!' .. tombstone
end
local run_id = cjson.decode(ARGV[2]).run
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then
  local mode = ARGV[8] or 'reject'
  local active = cjson.decode(existing)
  if mode == 'reject' or active.run == run_id then
    return existing
  end
  local waiting = redis.call('LRANGE', KEYS[7], 0, -1)
  for _, raw in ipairs(waiting) do
    if cjson.decode(raw).run == run_id then
      return '@' .. raw
    end
  end
  if mode == 'enqueue' then
    if #waiting >= tonumber(ARGV[10]) then
      return '%' .. #waiting
    end
    redis.call('RPUSH', KEYS[7], ARGV[9])
    return '+' .. existing
  end
  if #waiting > 0 and cjson.decode(waiting[1]).after ~= '' then
    return '^' .. waiting[1]
  end
  local entry = cjson.decode(ARGV[9])
  entry.after = active.run
  redis.call('LPUSH', KEYS[7], cjson.encode(entry))
  return '+' .. existing
end
if redis.call('HGET', KEYS[5], ARGV[1]) == 'ended:' .. run_id then
  return '='
end
local active = redis.call('HLEN', KEYS[1])
if active >= tonumber(ARGV[5]) then
  return '#' .. active
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local length = redis.call('RPUSH', KEYS[2], ARGV[3])
local max = tonumber(ARGV[7] or '0')
if max > 0 and length > max then
  local first = redis.call('LINDEX', KEYS[2], 0)
  redis.call('LTRIM', KEYS[2], length - max + 1, -1)
  redis.call('LPUSH', KEYS[2], first)
end
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('DEL', KEYS[4])
redis.call('HSET', KEYS[5], ARGV[1], run_id)
if KEYS[8] then
  redis.call('ZADD', KEYS[8], ARGV[4], ARGV[6])
end
if KEYS[9] then
  redis.call('PUBLISH', ARGV[13], ARGV[12])
  redis.call('XADD', KEYS[9], '*', 'job', ARGV[11])
end
return false
