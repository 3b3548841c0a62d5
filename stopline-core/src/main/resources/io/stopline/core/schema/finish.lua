-- End a run: remove its ownership record and write its outcome to the history, only if the record still
-- belongs to this run id (and, when ARGV[3] is set, is still in that state). A late or duplicated finish
-- never touches a newer run of the same conversation. Whether or not it ended the run, the run's worker index
-- entry and the stop requests it settles are removed (when the worker's keys are given); only when it ended the
-- run are the events given published, in order: the confirmation leaves in the same round trip as the write, and
-- a finish fenced out announces nothing (watchers never see a message the history does not hold). The worker's keys and
-- the channels live in other slots: single Redis and Sentinel only; on Redis Cluster the caller does those
-- steps itself.
-- The finish that ends the run marks the conversation's latest generation ended, so the run is never restored.
-- KEYS: 1 runs hash, 2 messages list, 3 conversations zset, 4 stopped marker, 5 latest-run hash,
--       optional: 6 the worker's index hash, 7 the worker's stop set
-- ARGV: 1 conversation id, 2 run id, 3 required state or '', 4 now (epoch millis),
--       5 stopped-marker TTL in seconds (0: not a stop), 6 n = number of history messages,
--       7 .. 6+n history messages (JSON), then m = number of settled stop requests and the m requests (exact
--       stop-set members), then any number of publications: event JSON, channel count c, c channels
local function ended()
  local current = redis.call('HGET', KEYS[1], ARGV[1])
  if not current then
    return 0
  end
  local run = cjson.decode(current)
  if run.run ~= ARGV[2] then
    return 0
  end
  if ARGV[3] ~= '' and run.state ~= ARGV[3] then
    return 0
  end
  redis.call('HDEL', KEYS[1], ARGV[1])
  for i = 7, 6 + tonumber(ARGV[6]) do
    redis.call('RPUSH', KEYS[2], ARGV[i])
  end
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
  if tonumber(ARGV[5]) > 0 then
    redis.call('SET', KEYS[4], ARGV[2], 'EX', ARGV[5])
  end
  redis.call('HSET', KEYS[5], ARGV[1], 'ended:' .. ARGV[2])
  return 1
end
local result = ended()
local i = 7 + tonumber(ARGV[6])
local settled = tonumber(ARGV[i])
if KEYS[6] then
  -- the index may shrink only once the record is gone: it is, or it belongs to another run
  redis.call('HDEL', KEYS[6], ARGV[2])
  for s = i + 1, i + settled do
    redis.call('ZREM', KEYS[7], ARGV[s])
  end
end
i = i + 1 + settled
while result == 1 and i <= #ARGV do
  local event = ARGV[i]
  local channels = tonumber(ARGV[i + 1])
  for c = i + 2, i + 1 + channels do
    redis.call('PUBLISH', ARGV[c], event)
  end
  i = i + 2 + channels
end
return result
