-- update_working.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 id, 5 data, 6 has metadata, 7 metadata, 8 'set' (explicit ttl) or 'keep', 9 t, 10 e,
--   11 refresh on update
sweep(tonumber(ARGV[3]))

local key = B .. ':w:' .. ARGV[4]
local member = 'w' .. NUL .. ARGV[4]
local ix = live(member, key)
if not ix then return false end
redis.call('HSET', key, 'data', ARGV[5], 'u', NOWS)
if ARGV[6] == '1' then redis.call('HSET', key, 'metadata', ARGV[7]) end
if ARGV[8] == 'set' then set_deadline(member, {key}, ARGV[10], ARGV[9], ix)
elseif ARGV[11] == '1' then restart(member, {key}, ix) end
return hash(key)
