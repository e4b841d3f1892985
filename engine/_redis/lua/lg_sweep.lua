-- lg_sweep.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 limit. Due items and threads removed.
return lg_sweep(tonumber(ARGV[4]))
