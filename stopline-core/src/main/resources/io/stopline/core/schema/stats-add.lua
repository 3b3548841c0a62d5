-- Add to the counters of one hourly stats bucket and keep it for the retention period.
-- KEYS: 1 bucket hash
-- ARGV: 1 TTL in seconds, then field/increment pairs
for i = 2, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
