-- A worker re-asserts a run it is executing, after Redis may have lost its data (restart without persistence) or
-- after the worker may have been reaped (paused past its heartbeat TTL). Answers:
--   'present'    the record is there and is this run: nothing to do
--   'superseded' another run of the conversation owns the record: this run must stop
--   'ended'      the history already holds this run's outcome (a reaper interrupted it): this run must stop
--   'restored'   nothing knew of the run any more: the record is written again
-- KEYS: 1 runs hash, 2 messages list, 3 conversations zset
-- ARGV: 1 conversation id, 2 run id, 3 run record JSON, 4 now (epoch millis)
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  if cjson.decode(current).run == ARGV[2] then
    return 'present'
  end
  return 'superseded'
end
local recent = redis.call('LRANGE', KEYS[2], -4, -1)
for _, raw in ipairs(recent) do
  local message = cjson.decode(raw)
  if message.runId == ARGV[2] and message.role == 'assistant' then
    return 'ended'
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
return 'restored'
