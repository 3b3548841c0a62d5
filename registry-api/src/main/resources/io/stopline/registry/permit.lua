-- Library, prepended to the scripts that call it: one permit from a user's token bucket, a hash on the
-- server's clock (TIME, so every gateway shares one clock). The bucket holds at most `permits` and refills at
-- `permits` per `interval_ms`; it expires once it would be full again.
local function take_permit(key, permits, interval_ms)
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local bucket = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(bucket[1])
  if tokens == nil then
    tokens = permits
  else
    tokens = math.min(permits, tokens + math.max(0, now - tonumber(bucket[2])) * permits / interval_ms)
  end
  local granted = tokens >= 1
  if granted then
    tokens = tokens - 1
  end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', key, interval_ms)
  return granted
end
