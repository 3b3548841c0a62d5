-- Record a stop request durably in the owner's stop set, then publish it. The set entry is what makes the
-- stop survive a missed publish: the owner reads the set on every reconcile tick and after resubscribing.
-- The channel shares the set's hash tag, so on Redis Cluster the shard-channel publish stays in this slot.
-- KEYS: 1 worker stop set, 2 worker stop channel
-- ARGV: 1 StopRun JSON, 2 requested at (epoch millis), 3 'SPUBLISH' (Redis Cluster) or 'PUBLISH'
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return redis.call(ARGV[3], KEYS[2], ARGV[1])
