--[[
  read-history: a task's newest `limit` frames with the offset and epoch they belong to, in one round
  trip (the contract: packages/engine/src/engine.ts, HistoryPage). The frames come back as one flat array
  of bulk strings, not as nested stream entries (id, field, value): a fifth of the reply elements for the
  client to decode. They are not joined here: table.concat in Redis's Lua cost Redis more CPU (about 40%
  more per 100-frame read) than Node's Buffer.concat costs the API (history-page.ts joins them).

  KEYS[1]  history stream       <prefix>:{t:<task>}:h
  KEYS[2]  meta/snapshot hash   <prefix>:{t:<task>}:m

  ARGV[1]  limit, 0..100 (checked by the caller)

  Returns
    nil                           unknown (or expired) task: the meta hash has no _epoch
    {offset, epoch, frame, …}     the frames newest first (none for limit 0)
    {-1, entry id}                a stream entry without its 'f' field (publish-task-event never writes one)
]]
local position = redis.call('HMGET', KEYS[2], '_offset', '_epoch')
local epoch = position[2]
if not epoch then
  return nil
end

local reply = {tonumber(position[1]) or 0, epoch}
local limit = tonumber(ARGV[1])
if limit > 0 then
  local entries = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', limit)
  for i = 1, #entries do
    -- entry = {id, {'f', frame}}: publish-task-event writes one field
    local fields = entries[i][2]
    if fields[1] ~= 'f' or not fields[2] then
      return {-1, entries[i][1]}
    end
    reply[i + 2] = fields[2]
  end
end
return reply
