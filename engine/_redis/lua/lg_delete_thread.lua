-- lg_delete_thread.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 tid. 1 if the thread was live.
lg_sweep(tonumber(ARGV[3]))

if not lg_live_thread(ARGV[4]) then return 0 end
lg_drop_thread(ARGV[4])
return 1
