-- Append audit entries to the capped audit stream, oldest first: a batch in one round trip.
-- KEYS: 1 the audit stream
-- ARGV: 1 cap (approximate MAXLEN), 2.. entry JSON
for i = 2, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'entry', ARGV[i])
end
return #ARGV - 1
