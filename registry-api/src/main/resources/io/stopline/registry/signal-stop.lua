-- Record a stop request durably in the owner's stop set, then publish it. The set entry is what makes the
-- stop survive a missed publish: the owner reads the set on every reconcile tick and after resubscribing.
-- KEYS: 1 worker stop set
-- ARGV: 1 worker stop channel, 2 StopRun JSON, 3 requested at (epoch millis)
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
return redis.call('PUBLISH', ARGV[1], ARGV[2])
