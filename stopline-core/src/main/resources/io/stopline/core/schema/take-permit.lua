-- Stop-rate permits for a request that is not a single stop: one for a pause or a resume, one per id for a
-- bulk stop.
-- KEYS: 1 the user's rate bucket
-- ARGV: 1 permits, 2 interval (ms), 3 how many this request costs (absent: 1)
-- Returns 1 granted, 0 refused.
if take_permit(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3] or '1')) then
  return 1
end
return 0
