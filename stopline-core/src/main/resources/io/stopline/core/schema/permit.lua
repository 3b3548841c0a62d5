-- Library, prepended to the scripts that call it: `count` permits (1 when nil) from a user's token bucket, a
-- hash on the server's clock (TIME, so every gateway shares one clock). The bucket holds at most `permits` and
-- refills at `permits` per `interval_ms`; it expires once it would be full again. A request is granted while the
-- bucket holds one permit and takes all `count` of them, going into debt if need be: a bulk stop of many ids
-- always goes through once, and is paid for by the user's next stops.
local function take_permit(key, permits, interval_ms, count)
  count = count or 1
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
    tokens = tokens - count
  end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.max(interval_ms, math.ceil((permits - tokens) * interval_ms / permits)))
  return granted
end
