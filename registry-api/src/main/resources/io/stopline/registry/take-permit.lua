-- A stop-rate permit for a request that is not a single stop (a bulk stop, a pause, a resume).
-- KEYS: 1 the user's rate bucket
-- ARGV: 1 permits, 2 interval (ms)
-- Returns 1 granted, 0 refused.
if take_permit(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])) then
  return 1
end
return 0
