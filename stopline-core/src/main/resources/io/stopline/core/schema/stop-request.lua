-- A stop request in one round trip: the user's rate-limit permit, the run's lookup and, when the run is held by
-- a worker and ARGV[4] carries the request, the request recorded in that worker's stop set and published (what
-- signal-stop.lua does). The worker's keys come from the record, so they are not declared: that is for a single
-- Redis or Sentinel. On Redis Cluster they live in another slot; the caller passes '' and signals separately.
-- A stop for a given run id (ARGV[8]) that is not the conversation's active run, has not ended and was not just
-- stopped has not arrived yet: a tombstone (KEYS[5], the request, ARGV[9] ms) makes reserve.lua refuse that run
-- id when its send comes, so whichever arrives first, the run never generates. The active run of another id is
-- left alone.
-- KEYS: 1 the user's rate bucket, 2 runs hash, 3 stopped marker, 4 latest-run hash, 5 the run id's tombstone
-- ARGV: 1 conversation id, 2 permits, 3 interval ms (0: no permit needed),
--       4 StopRun JSON whose run id is filled in here, or '' (look up only),
--       5 worker stop-set key with %s for the worker id, 6 worker stop channel likewise, 7 requested at (epoch ms),
--       8 the run id to stop ('' for whichever is active), 9 the tombstone's time to live (ms),
--       10 the StopRun JSON for the tombstone
-- Returns {'L'} refused by the rate limit, {'N'} nothing to stop, {'S', run id} stopped within the last minute,
-- {'A', record} active and not signalled, {'R', record, request JSON, receivers} recorded and published,
-- {'T'} the run id has not arrived: tombstone recorded.
if tonumber(ARGV[3]) > 0 and not take_permit(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3])) then
  return {'L'}
end
local current = redis.call('HGET', KEYS[2], ARGV[1])
local wanted = ARGV[8] or ''
if wanted ~= '' and not (current and cjson.decode(current).run == wanted) then
  if redis.call('GET', KEYS[3]) == wanted then
    return {'S', wanted}
  end
  if redis.call('HGET', KEYS[4], ARGV[1]) == 'ended:' .. wanted then
    return {'N'}
  end
  redis.call('SET', KEYS[5], ARGV[10], 'PX', ARGV[9])
  return {'T'}
end
if not current then
  local stopped = redis.call('GET', KEYS[3])
  if stopped then
    return {'S', stopped}
  end
  return {'N'}
end
local run = cjson.decode(current)
if ARGV[4] == '' or run.state == 'queued' or type(run.worker) ~= 'string' then
  return {'A', current}
end
local stop = cjson.decode(ARGV[4])
stop.runId = run.run
local request = cjson.encode(stop)
redis.call('ZADD', string.format(ARGV[5], run.worker), ARGV[7], request)
return {'R', current, request, redis.call('PUBLISH', string.format(ARGV[6], run.worker), request)}
