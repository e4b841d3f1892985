-- topic_members.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 user, 5... topics: the user's memories having any of the topics (live).
sweep(tonumber(ARGV[3]))

local uid = ARGV[4]
local sets = {}
for i = 5, #ARGV do sets[#sets + 1] = B .. ':mt:' .. uid .. NUL .. ARGV[i] end
local out = {}
for _, mid in ipairs(redis.call('SUNION', unpack(sets))) do
  local id = uid .. NUL .. mid
  if live('m' .. NUL .. id, B .. ':m:' .. id) then out[#out + 1] = hash(B .. ':m:' .. id) end
end
return out
