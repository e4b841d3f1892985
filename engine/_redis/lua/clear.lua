-- clear.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 3 limit, 4 batch. Remove up to ``batch`` live records; {removed, done}.
sweep(tonumber(ARGV[3]))

local batch = tonumber(ARGV[4])
local removed = 0
local function drain(index, is_set, kind)
  while removed < batch do
    local members
    if is_set then members = redis.call('SRANDMEMBER', index, batch - removed)
    else members = redis.call('ZRANGE', index, 0, batch - removed - 1) end
    if #members == 0 then return end
    for _, m in ipairs(members) do
      local ix = live(kind .. NUL .. m, B .. ':' .. kind .. ':' .. m)
      if ix then remove(cjson.decode(ix), false); removed = removed + 1 end
      if is_set then redis.call('SREM', index, m) else redis.call('ZREM', index, m) end
    end
  end
end
drain(B .. ':si:u:all', false, 's')
drain(B .. ':mi:u:all', false, 'm')
drain(B .. ':ki:u', false, 'k')
drain(B .. ':wa', true, 'w')
if removed >= batch then return {removed, 0} end
return {removed, 1}
