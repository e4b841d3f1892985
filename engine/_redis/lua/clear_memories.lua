-- clear_memories.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 user
sweep(tonumber(ARGV[3]))

local n = 0
for _, id in ipairs(redis.call('ZRANGE', B .. ':mi:u:user' .. NUL .. ARGV[4], 0, -1)) do
  local ix = live('m' .. NUL .. id, B .. ':m:' .. id)
  if ix then remove(cjson.decode(ix), false); n = n + 1 end
end
return n
