-- Renew a worker's heartbeat and say whether it was still alive: nil means the key had expired (the worker may
-- have been reaped) or Redis lost its data; either way the worker must re-check its runs.
-- (The registry of known workers is another slot on Redis Cluster, so it is written by a separate ZADD.)
-- KEYS: 1 alive key
-- ARGV: 1 TTL in milliseconds, 2 now (epoch millis)
local previous = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
return previous
