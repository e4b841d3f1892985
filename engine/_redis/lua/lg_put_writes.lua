-- lg_put_writes.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 tid, 5 ttl, 6.. groups of ns, cid, field, idx, JSON. Returns how many stored.
lg_sweep(tonumber(ARGV[3]))

local tid = ARGV[4]
lg_live_thread(tid)
local stored = 0
for i = 6, #ARGV, 5 do
  local ns = ARGV[i]
  local key = B .. ':CW:' .. tid .. NUL .. ns .. NUL .. ARGV[i + 1]
  if tonumber(ARGV[i + 3]) < 0 or redis.call('HEXISTS', key, ARGV[i + 2]) == 0 then
    redis.call('HSET', key, ARGV[i + 2], ARGV[i + 4])
    redis.call('SADD', B .. ':CWL:' .. tid .. NUL .. ns, ARGV[i + 1])
    stored = stored + 1
  end
  redis.call('SADD', B .. ':CN:' .. tid, ns)
end
redis.call('SADD', B .. ':CT', tid)
lg_deadline('t' .. NUL .. tid, ARGV[5])
return stored
