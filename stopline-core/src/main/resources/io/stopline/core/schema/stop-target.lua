-- What a stop request finds: the active run ('A' + record), a run stopped within the last minute
-- ('S' + run id), or nothing (nil). One round trip for the common case.
-- KEYS: 1 runs hash, 2 stopped marker
-- ARGV: 1 conversation id
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  return 'A' .. current
end
local stopped = redis.call('GET', KEYS[2])
if stopped then
  return 'S' .. stopped
end
return false
