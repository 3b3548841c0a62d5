-- Library (prepended by LuaScripts): the writes that record a run's end, shared by the finish and by the restore
-- that writes a lost outcome again, so both leave the same trace: the outcome's history messages (ARGV[first] ..
-- ARGV[last]), the conversation's place in the user's list, the stopped marker (for a stop: ttl > 0) and the
-- conversation's latest generation marked ended, the fence that keeps the run from ever being restored.
local function append_messages(messages_key, first, last)
  for i = first, last do
    redis.call('RPUSH', messages_key, ARGV[i])
  end
end

local function mark_ended(conversations_key, stopped_key, latest_key, conversation, run_id, now, stopped_ttl)
  redis.call('ZADD', conversations_key, now, conversation)
  if tonumber(stopped_ttl) > 0 then
    redis.call('SET', stopped_key, run_id, 'EX', stopped_ttl)
  end
  redis.call('HSET', latest_key, conversation, 'ended:' .. run_id)
end
