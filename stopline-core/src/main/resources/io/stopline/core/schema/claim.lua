-- A worker takes a queued run. Fenced on the run id and on the queued state: a run stopped (or replaced)
-- while queued is gone, and the worker must not start it. When the worker's index is given (single Redis and
-- Sentinel: it lives in another slot), the run is indexed in the same step; on Redis Cluster the caller writes
-- the index entry before and removes it again when the claim fails.
-- The run leaves the queued-runs zset in the same step (KEYS[4], with KEYS[3]); on Cluster the caller removes it.
-- It also answers whether a WebSocket watches the conversation (KEYS[2], in the user's slot): read in the step
-- that claims, never before, so a socket that marks the conversation watched later finds the run claimed and asks
-- for a snapshot; one round trip fewer on every start than a read after the claim.
-- A claim that takes the run publishes the run's start announcements given (single Redis and Sentinel: the channels
-- live in other slots), in order: watchers and the chat's gateway learn of the start in the claim's round trip, and
-- before any token (the run generates only once the claim answered). A refused claim announces nothing.
-- When the run's job entry is given (single Redis and Sentinel), it leaves the job stream in the same step, whether
-- or not the run is claimed (a run stopped or replaced while queued will not run either): one round trip fewer per
-- start than an acknowledgement of its own.
-- KEYS: 1 runs hash, 2 the conversation's watched mark, optional: 3 the worker's index hash, 4 the queued-runs zset,
--       5 the job stream
-- ARGV: 1 conversation id, 2 run id, 3 worker id, 4 started at (epoch millis), 5 index entry (with KEYS[3]),
--       6 queued-runs entry (with KEYS[4]), 7 the job stream's group and 8 the job's entry id ('' for none), then
--       any number of publications: event JSON, channel count c, c channels
-- Answers: false (not claimed), or {claimed record JSON, 1 when watched else 0}
if ARGV[8] and ARGV[8] ~= '' then
  redis.call('XACK', KEYS[5], ARGV[7], ARGV[8])
  redis.call('XDEL', KEYS[5], ARGV[8])
end
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then
  return false
end
local run = cjson.decode(current)
if run.run ~= ARGV[2] or run.state ~= 'queued' then
  return false
end
run.state = 'running'
run.worker = ARGV[3]
run.started = tonumber(ARGV[4])
local claimed = cjson.encode(run)
if KEYS[3] then
  redis.call('HSET', KEYS[3], ARGV[2], ARGV[5])
end
if KEYS[4] then
  redis.call('ZREM', KEYS[4], ARGV[6])
end
redis.call('HSET', KEYS[1], ARGV[1], claimed)
publish_from(9)
return {claimed, redis.call('EXISTS', KEYS[2])}
