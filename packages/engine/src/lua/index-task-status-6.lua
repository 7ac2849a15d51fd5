--[[
  index-task-status: records a task's current status in the stats index, after its event was published
  (apart from publish-task-event, whose keys are the task's: on a cluster the index lives in its own slot).
  Events of one task can reach the index out of order (two publishers): the position hash keeps the
  newest event's position, and an older one changes nothing.

  KEYS[1..5]  status sets  <prefix>:{idx}:pending|running|completed|failed|cancelled (this order)
  KEYS[6]     position     <prefix>:{idx}:at   task -> <epoch>:<offset>

  ARGV[1]  task id
  ARGV[2]  status as its JSON text ("running")
  ARGV[3]  now, ms (the set's score)
  ARGV[4]  epoch of the event
  ARGV[5]  offset of the event

  Returns 1 when recorded, 0 when the index already holds a newer event of this epoch.
]]
local taskId, epoch, offset = ARGV[1], ARGV[4], tonumber(ARGV[5])
local held = redis.call('HGET', KEYS[6], taskId)
if held then
  local heldEpoch, heldOffset = string.match(held, '^(.*):(%d+)$')
  if heldEpoch == epoch and tonumber(heldOffset) > offset then return 0 end
end
redis.call('HSET', KEYS[6], taskId, epoch .. ':' .. ARGV[5])

-- the task is a member of its current status's set only
local INDEX = {['"pending"'] = 1, ['"running"'] = 2, ['"completed"'] = 3, ['"failed"'] = 4, ['"cancelled"'] = 5}
local newIndex = INDEX[ARGV[2]]
for i = 1, 5 do
  if i ~= newIndex then redis.call('ZREM', KEYS[i], taskId) end
end
if newIndex then
  redis.call('ZADD', KEYS[newIndex], ARGV[3], taskId)
end
return 1
