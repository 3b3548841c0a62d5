-- Renew a worker's heartbeat and say whether it was still alive: nil means the key had expired (the worker may
-- have been reaped) or Redis lost its data; either way the worker must re-check its runs.
-- KEYS: 1 alive key, 2 workers zset
-- ARGV: 1 worker id, 2 TTL in milliseconds, 3 now (epoch millis)
local previous = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return previous
