--[[
  count-task-statuses: drops index entries scored at or before the cutoff (their task keys have expired)
  with their positions, then counts each status set.

  KEYS[1..5]  status sets  <prefix>:{idx}:pending|running|completed|failed|cancelled (this order)
  KEYS[6]     position     <prefix>:{idx}:at
  ARGV[1]     cutoff, ms

  Returns {removed, pending, running, completed, failed, cancelled}.
]]
local removed = 0
local counts = {}
for i = 1, 5 do
  local old = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', ARGV[1])
  for j = 1, #old, 1000 do
    local chunk = {unpack(old, j, math.min(j + 999, #old))}
    redis.call('ZREM', KEYS[i], unpack(chunk))
    redis.call('HDEL', KEYS[6], unpack(chunk))
  end
  removed = removed + #old
  counts[#counts + 1] = redis.call('ZCARD', KEYS[i])
end
return {removed, unpack(counts)}
