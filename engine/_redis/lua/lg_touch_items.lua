-- lg_touch_items.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4.. pairs of nk, key: restart their TTLs. Returns their metas (false if gone).
lg_sweep(tonumber(ARGV[3]))

local out = {}
for i = 4, #ARGV, 2 do
  local meta = lg_live_item(ARGV[i], ARGV[i + 1])
  out[#out + 1] = meta and lg_refresh(ARGV[i], ARGV[i + 1], meta) or false
end
return out
