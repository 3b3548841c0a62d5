-- Library (prepended by LuaScripts): publishes the publications in ARGV from index `from` to the end, in order,
-- each as: event JSON, channel count c, c channels. Used by the claim (a run's start) and the finish (its end).
local function publish_from(from)
  local i = from
  while i <= #ARGV do
    local event = ARGV[i]
    local channels = tonumber(ARGV[i + 1])
    for c = i + 2, i + 1 + channels do
      redis.call('PUBLISH', ARGV[c], event)
    end
    i = i + 2 + channels
  end
end
