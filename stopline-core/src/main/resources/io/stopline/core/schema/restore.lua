-- A worker re-asserts a run it is executing, after Redis may have lost its data (restart without persistence or a
-- failover that lost writes) or after the worker may have been reaped (paused or cut off past its heartbeat TTL).
-- Fenced on the conversation's generation (the latest-run hash written by reserve and finish), not on a window of
-- the history, so a run reaped many turns ago is never brought back. Answers:
--   'present'    the record is there and is this run on this worker: nothing to do
--   'superseded' another run of the conversation (or another worker) owns it or came after it: this run must stop
--   'ended'      this run's outcome is already recorded (a reaper interrupted it): this run must stop
--   'restored'   nothing knew of the run any more, or its claim was lost (the record says queued), or its reservation
--                was lost (a failover dropped it after a worker had claimed the run on the old master: the latest run
--                is an ended older one and the history holds nothing of this run): written again, with the user's
--                message (ARGV[5]) when the history lacks it
-- With an outcome (ARGV[6] set: a run that ended on this worker, whose outcome a failover or a restart lost with
-- everything else of the run), the 'restored' answers that would write the record from nothing write the outcome
-- instead, in the same step ('rewritten'): the record never comes back, so the run is never listed as active again
-- after its stop or its end was confirmed. A record still there and queued (its claim was lost) is left as it is
-- ('queued'): the caller restores it (indexed first) and finishes it, since it was listed already and its finish
-- may start a waiting run.
-- KEYS: 1 runs hash, 2 messages list, 3 conversations zset, 4 latest-run hash, optional: 5 stopped marker
-- ARGV: 1 conversation id, 2 run id, 3 run record JSON, 4 now (epoch millis), 5 the run's user message JSON or '',
--       optional: 6 n = number of outcome messages, 7 stopped-marker TTL in seconds (0: not a stop),
--       8 .. 7+n the outcome's history messages (JSON)
local function mentions(run_id)
  local needle = '"runId":"' .. run_id .. '"'
  for _, raw in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
    if string.find(raw, needle, 1, true) then
      return true
    end
  end
  return false
end
local asked = ARGV[5] and ARGV[5] ~= ''
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local run = cjson.decode(current)
  if run.run ~= ARGV[2] then
    return 'superseded'
  end
  if run.state == 'queued' then
    if ARGV[6] then
      return 'queued'
    end
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
    return 'restored'
  end
  if run.worker ~= cjson.decode(ARGV[3]).worker then
    return 'superseded'
  end
  return 'present'
end
local latest = redis.call('HGET', KEYS[4], ARGV[1])
if latest then
  if latest == 'ended:' .. ARGV[2] then
    return 'ended'
  end
  if latest ~= ARGV[2] then
    -- a run that came after this one was reserved once this one's record was gone, and that record only goes with
    -- this run's outcome in the history: an ended latest run and no trace of this one mean this one came after it
    -- and lost its reservation
    if string.sub(latest, 1, 6) ~= 'ended:' or mentions(ARGV[2]) then
      return 'superseded'
    end
    if asked then
      redis.call('RPUSH', KEYS[2], ARGV[5])
    end
    redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
  end
else
  -- no generation known (Redis lost it, or the conversation predates it): the recent history decides
  local recent = redis.call('LRANGE', KEYS[2], -4, -1)
  for _, raw in ipairs(recent) do
    local message = cjson.decode(raw)
    if message.runId == ARGV[2] and message.role == 'assistant' then
      return 'ended'
    end
  end
  if asked and not mentions(ARGV[2]) then
    redis.call('RPUSH', KEYS[2], ARGV[5])
  end
  redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
end
if ARGV[6] then
  append_messages(KEYS[2], 8, 7 + tonumber(ARGV[6]))
  mark_ended(KEYS[3], KEYS[5], KEYS[4], ARGV[1], ARGV[2], ARGV[4], ARGV[7])
  return 'rewritten'
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
return 'restored'
