--[[
  publish-task-event: applies one task event atomically (the contract: packages/engine/src/engine.ts).
  Dedupe check, terminal check, epoch, next offset, snapshot update, the frame, XADD (exact MAXLEN),
  newest frame of its type, expiry of both keys, PUBLISH (SPUBLISH on a cluster): all or nothing. Every key
  is the task's (one hash tag), so the script runs on one Redis Cluster shard; the stats index is written
  apart, after it (redis-status-index.ts).
  The frame comes from protocol as a template (packages/protocol/src/task-frame.ts); this script splices
  the offset, the epoch and stored field values in, and knows no frame field. Redis spends most of a run
  on each redis.call and each argument, so there are as few of both as the job allows (see
  bench/results/publish-script-cost.md).

  KEYS[1]     history stream        <prefix>:{t:<task>}:h
  KEYS[2]     meta/snapshot hash    <prefix>:{t:<task>}:m

  ARGV[1]   task id (names the run in SLOWLOG and MONITOR)
  ARGV[2]   epoch candidate, taken only when the meta hash does not exist
  ARGV[3]   now, ms (publisher's clock: expiry refresh)
  ARGV[4]   ttl of both keys, seconds
  ARGV[5]   history entries kept (exact MAXLEN)
  ARGV[6]   task channel
  ARGV[7]   frame type: progress (refused on a finished task) | status
  ARGV[8]   'single' (one Redis: PUBLISH) or 'cluster' (Redis Cluster: SPUBLISH, which stays on this shard,
            and the failover fence below)
  ARGV[9]   dedupe stream id <ms>-<seq>, '' for none
  ARGV[10]  k frame slots, ARGV[11] s fields set, ARGV[12] u fields cleared
  then k slot field names (and '_src:<source>' when deduping): the fields read besides the fixed ones;
  then s (field, JSON text) pairs to set (with '_src:<source>', id when deduping); then u names to clear;
  then the frame template: text, offset, text, epoch, text, and per slot (fallback, text): a slot takes
  its field's stored JSON text, or the fallback when the task has none.

  Meta hash: snapshot fields under their own names (JSON texts); bookkeeping under '_' names:
  _epoch, _offset, _pf/_po (newest progress frame and its offset), _sf/_so (newest status frame and
  its offset), _src:<source> (last dedupe id of a source), _ttl (ms the expiry was last set), _rid
  (cluster: replication id of the master that last wrote the task).

  Expiry: set when the hash is created and refreshed when it was set a minute ago or more (or at a later
  time by the publisher's clock), so both keys expire between 24 h - 1 min and 24 h after the last event.

  Returns (codes: packages/engine/src/script-codes.ts)
    {0, offset, epoch, frame}  published
    {1}                        duplicate: the dedupe id is not newer than the source's last; nothing written
    {-1, status}               task finished: progress on a completed/failed/cancelled task; nothing written
]]
local stream, meta = KEYS[1], KEYS[2]
local isProgress = ARGV[7] == 'progress'
local slotCount, setCount, unsetCount = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local dedupeId = ARGV[9]
local readEnd = 12 + slotCount
if dedupeId ~= '' then readEnd = readEnd + 1 end
local setAt = readEnd + 1
local unsetAt = setAt + 2 * setCount
local frameAt = unsetAt + unsetCount

local current = redis.call('HMGET', meta, '_epoch', '_offset', '_ttl', 'status', unpack(ARGV, 13, readEnd))
local epoch, oldStatus = current[1], current[4]
local fresh = not epoch

if fresh then
  -- a new epoch: whatever is left of an older one (a stream without its hash) is discarded
  epoch = ARGV[2]
  oldStatus = false
  redis.call('DEL', stream, meta)
else
  local lastId = current[5 + slotCount]
  if dedupeId ~= '' and lastId then
    local ms, seq = string.match(dedupeId, '^(%d+)-?(%d*)$')
    local lastMs, lastSeq = string.match(lastId, '^(%d+)-?(%d*)$')
    ms, seq, lastMs, lastSeq = tonumber(ms) or 0, tonumber(seq) or 0, tonumber(lastMs) or 0, tonumber(lastSeq) or 0
    if ms < lastMs or (ms == lastMs and seq <= lastSeq) then return {1} end
  end
  if isProgress and (oldStatus == '"completed"' or oldStatus == '"failed"' or oldStatus == '"cancelled"') then
    return {-1, oldStatus}
  end
end

-- Failover fence (cluster): replication is asynchronous, so a replica promoted by a failover may lack its
-- old master's newest writes and would hand out offsets already delivered. A master's replication id
-- changes when it is promoted: a task last written under another one starts a new epoch (snapshot kept).
local fenced, replid = false, false
if ARGV[8] == 'cluster' then
  replid = string.match(redis.call('INFO', 'replication'), 'master_replid:(%x+)')
  if not fresh then
    if redis.call('HGET', meta, '_rid') == replid then
      replid = false
    else
      fenced = true
      epoch = ARGV[2]
      redis.call('DEL', stream)
      redis.call('HDEL', meta, '_pf', '_po', '_sf', '_so')
    end
  end
end

local offset = (tonumber(current[2]) or 0) + 1
if fresh or fenced then offset = 1 end
local offsetText = string.format('%d', offset)
local frame
if slotCount == 0 then
  frame = ARGV[frameAt] .. offsetText .. ARGV[frameAt + 1] .. epoch .. ARGV[frameAt + 2]
else
  local parts = {ARGV[frameAt], offsetText, ARGV[frameAt + 1], epoch, ARGV[frameAt + 2]}
  for i = 1, slotCount do
    local at = frameAt + 1 + 2 * i
    parts[2 * i + 4] = (not fresh and current[4 + i]) or ARGV[at]
    parts[2 * i + 5] = ARGV[at + 1]
  end
  frame = table.concat(parts)
end

if isProgress then
  redis.call('HSET', meta, '_offset', offsetText, '_pf', frame, '_po', offsetText, unpack(ARGV, setAt, unsetAt - 1))
else
  redis.call('HSET', meta, '_offset', offsetText, '_sf', frame, '_so', offsetText, unpack(ARGV, setAt, unsetAt - 1))
end
if unsetCount > 0 then
  redis.call('HDEL', meta, unpack(ARGV, unsetAt, frameAt - 1))
end
redis.call('XADD', stream, 'MAXLEN', ARGV[5], offsetText .. '-0', 'f', frame)
local now, expirySetAt = tonumber(ARGV[3]), tonumber(current[3]) or 0
if fresh or fenced or now - expirySetAt >= 60000 or now < expirySetAt then
  if fresh or fenced then
    redis.call('HSET', meta, '_epoch', epoch, '_ttl', ARGV[3])
  else
    redis.call('HSET', meta, '_ttl', ARGV[3])
  end
  redis.call('EXPIRE', stream, ARGV[4])
  redis.call('EXPIRE', meta, ARGV[4])
end
if replid then
  redis.call('HSET', meta, '_rid', replid)
end
if ARGV[8] == 'cluster' then
  redis.call('SPUBLISH', ARGV[6], frame)
else
  redis.call('PUBLISH', ARGV[6], frame)
end
return {0, offset, epoch, frame}
