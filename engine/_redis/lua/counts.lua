-- counts.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 3 limit. Counters for statistics.
sweep(tonumber(ARGV[3]))

local first = redis.call('ZRANGE', B .. ':x', 0, 0, 'WITHSCORES')
return {hash(B .. ':n'), redis.call('ZCARD', B .. ':x'), first[2] or false}
