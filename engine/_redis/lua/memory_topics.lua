-- memory_topics.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 user or ''
while sweep(1000) == 1000 do end
if ARGV[4] == '' then return redis.call('HKEYS', B .. ':mtc') end
return redis.call('HKEYS', B .. ':mtc:' .. ARGV[4])
