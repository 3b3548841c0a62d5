-- A worker takes a queued run. Fenced on the run id and on the queued state: a run stopped (or replaced)
-- while queued is gone, and the worker must not start it.
-- KEYS: 1 runs hash
-- ARGV: 1 conversation id, 2 run id, 3 worker id, 4 started at (epoch millis)
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
redis.call('HSET', KEYS[1], ARGV[1], claimed)
return claimed
