--[[
  publish-task-events: applies task events in order, each atomically with the per-event semantics of the
  contract (packages/engine/src/engine.ts); a single publish is a batch of one. Per event: dedupe check,
  terminal check, epoch, next offset, snapshot update, the frame, XADD (exact MAXLEN), newest frame of
  its type, expiry of both keys, PUBLISH (SPUBLISH on a cluster). One run amortizes Redis's fixed cost of
  an EVALSHA over its events (bench/results/publish-script-cost.md). Every key of an event is its task's
  (one hash tag); on a cluster the engine sends only events of one slot in one run. The stats index is
  written apart, after it (redis-status-index.ts).
  The frame comes from protocol as a template (packages/protocol/src/task-frame.ts); this script splices
  the offset, the epoch and stored field values in, and knows no frame field. Redis spends most of a run
  on each redis.call and each argument, so there are as few of both as the job allows.

  KEYS        two per event, in event order: history stream <prefix>:{t:<task>}:h, meta/snapshot hash
              <prefix>:{t:<task>}:m

  ARGV[1]   now, ms (publisher's clock: expiry refresh)
  ARGV[2]   ttl of both keys, seconds
  ARGV[3]   history entries kept (exact MAXLEN)
  ARGV[4]   'single' (one Redis: PUBLISH) or 'cluster' (Redis Cluster: SPUBLISH, which stays on this shard,
            and the failover fence below)
  ARGV[5]   epoch candidate, taken by a task whose meta hash does not exist (or that is fenced)
  then per event, in order:
    task channel
    frame type: progress (refused on a finished task) | status
    dedupe stream id <ms>-<seq>, '' for none
    k frame slots, s fields set, u fields cleared
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

  Returns one reply per event, in order (codes: packages/engine/src/script-codes.ts)
    {0, offset, epoch, frame}  published
    {1}                        duplicate: the dedupe id is not newer than the source's last; nothing written
    {-1, status}               task finished: progress on a completed/failed/cancelled task; nothing written
    {-2, message}              a Redis command of this event failed (e.g. WRONGTYPE); later events still run
]]
local now, ttl, maxlen, cluster, epochCandidate = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4] == 'cluster', ARGV[5]
local masterReplid = false

-- Where the parts of the event whose arguments start at ARGV[at] lie: its slot and clear counts, the end of
-- the fields it reads, where its sets, clears and frame template start, and where the next event starts.
local function eventLayout(at)
  local slotCount, setCount, unsetCount = tonumber(ARGV[at + 3]), tonumber(ARGV[at + 4]), tonumber(ARGV[at + 5])
  local readEnd = at + 5 + slotCount
  if ARGV[at + 2] ~= '' then readEnd = readEnd + 1 end
  local setAt = readEnd + 1
  local unsetAt = setAt + 2 * setCount
  local frameAt = unsetAt + unsetCount
  return slotCount, unsetCount, readEnd, setAt, unsetAt, frameAt, frameAt + 3 + 2 * slotCount
end

-- One event whose arguments start at ARGV[at]; returns its reply.
local function applyEvent(stream, meta, at)
  local channel, isProgress, dedupeId = ARGV[at], ARGV[at + 1] == 'progress', ARGV[at + 2]
  local slotCount, unsetCount, readEnd, setAt, unsetAt, frameAt = eventLayout(at)

  local current = redis.call('HMGET', meta, '_epoch', '_offset', '_ttl', 'status', unpack(ARGV, at + 6, readEnd))
  local epoch, oldStatus = current[1], current[4]
  local fresh = not epoch

  if fresh then
    -- a new epoch: whatever is left of an older one (a stream without its hash) is discarded
    epoch = epochCandidate
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
  if cluster then
    if not masterReplid then
      masterReplid = string.match(redis.call('INFO', 'replication'), 'master_replid:(%x+)')
    end
    replid = masterReplid
    if not fresh then
      if redis.call('HGET', meta, '_rid') == replid then
        replid = false
      else
        fenced = true
        epoch = epochCandidate
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
      local slotAt = frameAt + 1 + 2 * i
      parts[2 * i + 4] = (not fresh and current[4 + i]) or ARGV[slotAt]
      parts[2 * i + 5] = ARGV[slotAt + 1]
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
  redis.call('XADD', stream, 'MAXLEN', maxlen, offsetText .. '-0', 'f', frame)
  local expirySetAt = tonumber(current[3]) or 0
  if fresh or fenced or now - expirySetAt >= 60000 or now < expirySetAt then
    if fresh or fenced then
      redis.call('HSET', meta, '_epoch', epoch, '_ttl', ARGV[1])
    else
      redis.call('HSET', meta, '_ttl', ARGV[1])
    end
    redis.call('EXPIRE', stream, ttl)
    redis.call('EXPIRE', meta, ttl)
  end
  if replid then
    redis.call('HSET', meta, '_rid', replid)
  end
  if cluster then
    redis.call('SPUBLISH', channel, frame)
  else
    redis.call('PUBLISH', channel, frame)
  end
  return {0, offset, epoch, frame}
end

local replies = {}
local at = 6
for k = 1, #KEYS / 2 do
  local ok, reply = pcall(applyEvent, KEYS[2 * k - 1], KEYS[2 * k], at)
  if ok then
    replies[k] = reply
  else
    replies[k] = {-2, type(reply) == 'table' and reply.err or tostring(reply)}
  end
  at = select(7, eventLayout(at))
end
return replies
