-- lg_delete_item.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 nk, 5 key. Returns 1 if a live item was deleted.
lg_sweep(tonumber(ARGV[3]))

if not lg_live_item(ARGV[4], ARGV[5]) then return 0 end
lg_drop_item(ARGV[4], ARGV[5])
return 1
