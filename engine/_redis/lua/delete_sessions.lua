-- delete_sessions.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 scope, 5... session ids
sweep(tonumber(ARGV[3]))

local n = 0
for i = 5, #ARGV do
  local ix = session_for(ARGV[i], ARGV[4])
  if ix then remove(cjson.decode(ix), false); n = n + 1 end
end
return n
