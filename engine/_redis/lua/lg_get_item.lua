-- lg_get_item.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 nk, 5 key, 6 refresh. Returns {body, meta} or nil.
lg_sweep(tonumber(ARGV[3]))

local nk, key = ARGV[4], ARGV[5]
local meta = lg_live_item(nk, key)
if not meta then return false end
if ARGV[6] == '1' then meta = lg_refresh(nk, key, meta) end
return {redis.call('HGET', B .. ':IV:' .. nk, key), meta}
