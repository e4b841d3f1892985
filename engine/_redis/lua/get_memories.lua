-- get_memories.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 refresh on read, 5... ids. One value (or false) per id.
sweep(tonumber(ARGV[3]))

local out = {}
for i = 5, #ARGV do
  local key = B .. ':m:' .. ARGV[i]
  local member = 'm' .. NUL .. ARGV[i]
  local ix = live(member, key)
  if ix then
    if ARGV[4] == '1' then restart(member, {key}, ix) end
    out[#out + 1] = hash(key)
  else
    out[#out + 1] = false
  end
end
return out
