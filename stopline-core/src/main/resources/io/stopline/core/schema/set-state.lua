-- Moves an active run between 'running' and 'paused'. Fenced on the run id and on the expected state, so a late
-- pause of an ended (or replaced) run changes nothing.
-- KEYS: 1 runs hash
-- ARGV: 1 conversation id, 2 run id, 3 expected state, 4 new state
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then
  return 0
end
local run = cjson.decode(current)
if run.run ~= ARGV[2] or run.state ~= ARGV[3] then
  return 0
end
run.state = ARGV[4]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(run))
return 1
