-- rename_session.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 sid, 5 scope, 6 name, 7 refresh on update
sweep(tonumber(ARGV[3]))

local sid = ARGV[4]
local ix = session_for(sid, ARGV[5])
if not ix then return {'nf'} end
redis.call('HSET', B .. ':s:' .. sid, 'n', ARGV[6])
touch_session(sid, ix, ARGV[7])
return {'ok', session_value(sid, -1)}
