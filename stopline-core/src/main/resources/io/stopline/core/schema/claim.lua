-- A worker takes a queued run. Fenced on the run id and on the queued state: a run stopped (or replaced)
-- while queued is gone, and the worker must not start it. When the worker's index is given (single Redis and
-- Sentinel: it lives in another slot), the run is indexed in the same step; on Redis Cluster the caller writes
-- the index entry before and removes it again when the claim fails.
-- The run leaves the queued-runs zset in the same step (KEYS[3], with KEYS[2]); on Cluster the caller removes it.
-- KEYS: 1 runs hash, optional: 2 the worker's index hash, 3 the queued-runs zset
-- ARGV: 1 conversation id, 2 run id, 3 worker id, 4 started at (epoch millis), 5 index entry (with KEYS[2]),
--       6 queued-runs entry (with KEYS[3])
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
if KEYS[2] then
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[5])
end
if KEYS[3] then
  redis.call('ZREM', KEYS[3], ARGV[6])
end
redis.call('HSET', KEYS[1], ARGV[1], claimed)
return claimed
