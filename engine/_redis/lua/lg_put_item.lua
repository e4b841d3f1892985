-- lg_put_item.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 nk, 5 key, 6 body JSON, 7 ttl. Returns created_at.
lg_sweep(tonumber(ARGV[3]))

local nk, key = ARGV[4], ARGV[5]
local old = lg_live_item(nk, key)
local c = old and string.match(old, '^(%S+) ') or NOWS
local e = lg_deadline('i' .. NUL .. nk .. NUL .. key, ARGV[7])
redis.call('ZADD', B .. ':I:' .. nk, NOWS, key)
redis.call('ZADD', B .. ':IN', 0, nk)
redis.call('HSET', B .. ':IV:' .. nk, key, ARGV[6])
redis.call('HSET', B .. ':IM:' .. nk, key, c .. ' ' .. NOWS .. ' ' .. e)
return c
