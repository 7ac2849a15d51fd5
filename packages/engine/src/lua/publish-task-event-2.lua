--[[
  publish-task-event: applies one task event atomically (the contract: packages/engine/src/engine.ts).
  Dedupe check, terminal check, epoch, next offset, snapshot update, frame assembly, XADD (exact MAXLEN),
  newest progress/status frame, EXPIRE of both keys, PUBLISH: all or nothing. Every key is the task's
  (one hash tag), so the script runs on one Redis Cluster shard; the stats index is written apart
  (redis-status-index.ts).
  The frame is concatenated byte for byte like protocol's assembleTaskFrame (packages/protocol/src/encode.ts):
  change both together; the engine contract suite compares their bytes.

  KEYS[1]     history stream        <prefix>:{t:<task>}:h
  KEYS[2]     meta/snapshot hash    <prefix>:{t:<task>}:m

  ARGV[1]   task id (unused since the status index moved out)
  ARGV[2]   task id as a JSON text (goes into the frame as it is)
  ARGV[3]   frame type: progress | status
  ARGV[4]   epoch candidate, taken only when the meta hash does not exist
  ARGV[5]   'single' (one Redis: PUBLISH) or 'cluster' (Redis Cluster: SPUBLISH, sharded pub/sub that stays on
            this shard, and the failover fence below)
  ARGV[6]   ttl of both keys, seconds
  ARGV[7]   history entries kept (exact MAXLEN)
  ARGV[8]   task channel
  ARGV[9]   dedupe source, '' for none
  ARGV[10]  dedupe stream id <ms>-<seq>, '' for none
  ARGV[11]  n: how many snapshot fields are set
  ARGV[12 .. 11+2n]  field, JSON text pairs to set
  ARGV[12+2n ..]     fields to delete

  Meta hash: snapshot fields under their own names (JSON texts); bookkeeping under '_' names:
  _epoch, _offset, _pf/_po (newest progress frame and its offset), _sf/_so (newest status frame and
  its offset), _src:<source> (last dedupe id of a source), _rid (cluster: replication id of the master
  that last wrote the task).

  Returns (codes: packages/engine/src/script-codes.ts)
    {0, offset, epoch, frame}  published
    {1}                        duplicate: the dedupe id is not newer than the source's last; nothing written
    {-1, status}               task finished: progress on a completed/failed/cancelled task; nothing written
]]
local stream, meta = KEYS[1], KEYS[2]
local taskId, taskJson, frameType = ARGV[1], ARGV[2], ARGV[3]
local source, sourceId = ARGV[9], ARGV[10]

local function parseStreamId(id)
  local ms, seq = string.match(id, '^(%d+)-?(%d*)$')
  return tonumber(ms) or 0, tonumber(seq) or 0
end

local function isNewer(a, b)
  local aMs, aSeq = parseStreamId(a)
  local bMs, bSeq = parseStreamId(b)
  return aMs > bMs or (aMs == bMs and aSeq > bSeq)
end

local sourceField = '_src:' .. source
local current = redis.call('HMGET', meta, '_epoch', 'status', sourceField, '_rid')
local epoch, oldStatus = current[1], current[2]

-- Failover fence (cluster): replication is asynchronous, so a replica promoted by a failover may lack its
-- old master's newest writes and would hand out offsets already delivered. A master's replication id
-- changes when it is promoted: a task last written under another one starts a new epoch (snapshot kept).
local replid = false
if ARGV[5] == 'cluster' then
  replid = string.match(redis.call('INFO', 'replication'), 'master_replid:(%x+)')
end

if epoch then
  if source ~= '' and current[3] and not isNewer(sourceId, current[3]) then
    return {1}
  end
  if frameType == 'progress' and (oldStatus == '"completed"' or oldStatus == '"failed"' or oldStatus == '"cancelled"') then
    return {-1, oldStatus}
  end
  if replid and current[4] ~= replid then
    epoch = ARGV[4]
    redis.call('DEL', stream)
    redis.call('HDEL', meta, '_offset', '_pf', '_po', '_sf', '_so')
    redis.call('HSET', meta, '_epoch', epoch)
  end
else
  -- a new epoch: whatever is left of an older one (a stream without its hash) is discarded
  epoch = ARGV[4]
  oldStatus = false
  redis.call('DEL', stream, meta)
  redis.call('HSET', meta, '_epoch', epoch)
end

if replid and current[4] ~= replid then
  redis.call('HSET', meta, '_rid', replid)
end

local offset = redis.call('HINCRBY', meta, '_offset', 1)
local setCount = tonumber(ARGV[11])
if setCount > 0 then
  redis.call('HSET', meta, unpack(ARGV, 12, 11 + 2 * setCount))
end
if #ARGV >= 12 + 2 * setCount then
  redis.call('HDEL', meta, unpack(ARGV, 12 + 2 * setCount, #ARGV))
end
if source ~= '' then
  redis.call('HSET', meta, sourceField, sourceId)
end

local f = redis.call('HMGET', meta, 'progress', 'current_step', 'total_steps', 'completed_steps', 'message',
  'status', 'timestamp', 'result', 'error')
local function text(value, default)
  if value then return value end
  return default
end

local offsetText = string.format('%d', offset)
local parts = {'{"type":"', frameType, '","task_id":', taskJson, ',"offset":', offsetText, ',"epoch":"', epoch,
  '","payload":{"task_id":', taskJson}
local function add(...)
  for _, part in ipairs({...}) do parts[#parts + 1] = part end
end
if frameType == 'progress' then
  add(',"progress":', text(f[1], '0'), ',"current_step":', text(f[2], '""'), ',"total_steps":', text(f[3], '0'),
    ',"completed_steps":', text(f[4], '0'), ',"message":', text(f[5], '""'), ',"status":', text(f[6], '"running"'))
else
  add(',"status":', text(f[6], 'null'))
  if f[8] then add(',"result":', f[8]) end
  if f[9] then add(',"error":', f[9]) end
end
add(',"timestamp":', text(f[7], 'null'), '}}')
local frame = table.concat(parts)

redis.call('XADD', stream, 'MAXLEN', ARGV[7], offsetText .. '-0', 'f', frame)
if frameType == 'progress' then
  redis.call('HSET', meta, '_pf', frame, '_po', offset)
else
  redis.call('HSET', meta, '_sf', frame, '_so', offset)
end
redis.call('EXPIRE', stream, ARGV[6])
redis.call('EXPIRE', meta, ARGV[6])

if ARGV[5] == 'cluster' then
  redis.call('SPUBLISH', ARGV[8], frame)
else
  redis.call('PUBLISH', ARGV[8], frame)
end
return {0, offset, epoch, frame}
