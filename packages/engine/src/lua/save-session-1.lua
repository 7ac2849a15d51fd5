-- Replaces one connection session whole: KEYS[1] the session hash, ARGV[1] the ttl in ms,
-- ARGV[2..] field, value, field, value… (always at least `who`).
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
