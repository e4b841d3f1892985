-- dump_working.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- Every live working-memory record of the partition (the other kinds are dumped through
--   ordered scans).
while sweep(1000) == 1000 do end
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', B .. ':wa')) do
  if live('w' .. NUL .. id, B .. ':w:' .. id) then out[#out + 1] = hash(B .. ':w:' .. id) end
end
return out
