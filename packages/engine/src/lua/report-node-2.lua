--[[
  report-node: records one gateway node's connection counts, whole or only what changed, and keeps them
  until the report's expiry. A changes-only report costs what changed, not how many users the node holds.

  KEYS[1]  live nodes  <prefix>:{nodes}        sorted set node -> report expiry ms
  KEYS[2]  the node    <prefix>:{nodes}:<id>   hash: '#total', 'u:<user>' and 'p:<project>' -> count

  ARGV[1]  node id
  ARGV[2]  report expiry, ms (the set's score)
  ARGV[3]  ttl, ms
  ARGV[4]  '1': changes only (entries not named stand; count 0 removes one), '0': the whole counts
  ARGV[5]  total connections
  ARGV[6..]  field, count pairs

  Returns 1 when recorded, 0 for a changes-only report on a node without counts (expired or lost):
  nothing written, the caller sends the whole counts.
]]
local node = KEYS[2]
if ARGV[4] == '1' and redis.call('EXISTS', node) == 0 then return 0 end
if ARGV[4] == '0' then redis.call('DEL', node) end
redis.call('HSET', node, '#total', ARGV[5])

-- in chunks: unpack() of a whole node's counts could pass Lua's stack limit
local set, gone = {}, {}
local function flush(force)
  if #set >= 1000 or (force and #set > 0) then
    redis.call('HSET', node, unpack(set))
    set = {}
  end
  if #gone >= 1000 or (force and #gone > 0) then
    redis.call('HDEL', node, unpack(gone))
    gone = {}
  end
end
for i = 6, #ARGV, 2 do
  if tonumber(ARGV[i + 1]) > 0 then
    set[#set + 1] = ARGV[i]
    set[#set + 1] = ARGV[i + 1]
  else
    gone[#gone + 1] = ARGV[i]
  end
  flush(false)
end
flush(true)

redis.call('PEXPIRE', node, ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
-- nodes whose report expired (now = expiry - ttl) leave the index with every report
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (tonumber(ARGV[2]) - tonumber(ARGV[3])))
return 1
