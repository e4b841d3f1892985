-- get_runs.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 sid, 5 scope, 6 last n (-1: all), 7 refresh on read
sweep(tonumber(ARGV[3]))

local sid = ARGV[4]
local ix = session_for(sid, ARGV[5])
if not ix then return {'nf'} end
if ARGV[7] == '1' then restart('s' .. NUL .. sid, session_keys(sid), ix) end
return {'ok', session_runs(sid, tonumber(ARGV[6]))}
