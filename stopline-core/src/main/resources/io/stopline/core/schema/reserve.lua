-- Reserve a conversation for a new run, unless it has one: HSETNX semantics plus the history append,
-- in one step so a second request can never slip between the check and the write. The history is bounded
-- here, where it grows: beyond ARGV[7] messages it keeps its first (the conversation's title) and the newest.
-- The run becomes the conversation's latest generation (KEYS[5]), which fences any restore of an older run.
-- A run id the client chose may have been stopped before its send arrived (stop-request.lua left a tombstone):
-- then nothing is reserved and the send is answered as a stopped run. A send whose run id is the conversation's
-- active run joins it; one whose run id already ended is answered with that run's end.
-- KEYS: 1 runs hash, 2 messages list, 3 conversations zset, 4 stopped marker, 5 latest-run hash,
--       6 the run id's stop tombstone,
--       optional: 7 the queued-runs zset (single Redis and Sentinel; on Redis Cluster the caller adds the entry
--       before and removes it when refused)
-- ARGV: 1 conversation id, 2 run record JSON, 3 user message JSON, 4 now (epoch millis),
--       5 the most active runs the user may have, 6 the queued-runs entry (with KEYS[7]),
--       7 the most history messages to keep (0 or absent: all)
-- Answers nil when reserved, the active record when the conversation is busy (the caller compares its run id),
-- '#<count>' when the user is at the cap, '!<stop request JSON>' when the run id was stopped before it arrived,
-- '=' when the run id is the conversation's latest run and has ended.
local tombstone = redis.call('GET', KEYS[6])
if tombstone then
  return '!' .. tombstone
end
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then
  return existing
end
local run_id = cjson.decode(ARGV[2]).run
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
if KEYS[7] then
  redis.call('ZADD', KEYS[7], ARGV[4], ARGV[6])
end
return false
