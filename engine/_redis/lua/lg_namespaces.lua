-- lg_namespaces.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 lex min, 5 lex max. The namespaces in range (after the sweep).
lg_sweep(tonumber(ARGV[3]))

return redis.call('ZRANGEBYLEX', B .. ':IN', ARGV[4], ARGV[5])
