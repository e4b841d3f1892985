-- lg_put_checkpoint.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 tid, 5 ns, 6 cid, 7 checkpoint JSON, 8 run id, 9 ttl, 10.. blob field, JSON.
lg_sweep(tonumber(ARGV[3]))

local tid, ns, cid = ARGV[4], ARGV[5], ARGV[6]
lg_live_thread(tid)
local lane = tid .. NUL .. ns
lg_drop_checkpoint(tid, ns, cid)
redis.call('HSET', B .. ':CC:' .. lane, cid, ARGV[7])
redis.call('ZADD', B .. ':CO:' .. lane, 0, cid)
redis.call('SADD', B .. ':CN:' .. tid, ns)
redis.call('SADD', B .. ':CT', tid)
if ARGV[8] ~= '' then
  redis.call('SADD', B .. ':CR:' .. ARGV[8], tid .. NUL .. ns .. NUL .. cid)
end
for i = 10, #ARGV, 2 do redis.call('HSET', B .. ':CB:' .. lane, ARGV[i], ARGV[i + 1]) end
lg_deadline('t' .. NUL .. tid, ARGV[9])
return 1
