-- retrieve_working.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 id, 5 refresh on read
sweep(tonumber(ARGV[3]))

local key = B .. ':w:' .. ARGV[4]
local member = 'w' .. NUL .. ARGV[4]
local ix = live(member, key)
if not ix then return false end
if ARGV[5] == '1' then restart(member, {key}, ix) end
return hash(key)
