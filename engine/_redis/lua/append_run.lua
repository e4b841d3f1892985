-- append_run.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 sid, 5 scope, 6 run_id, 7 run JSON, 8 refresh on update
sweep(tonumber(ARGV[3]))

local sid = ARGV[4]
local ix = session_for(sid, ARGV[5])
if not ix then return {'nf'} end
local keys = session_keys(sid)
if redis.call('HEXISTS', keys[2], ARGV[6]) == 0 then
  local seq = redis.call('HINCRBY', keys[1], 'rs', 1)
  redis.call('ZADD', keys[3], seq, ARGV[6])
  redis.call('HINCRBY', B .. ':sn', sid, 1)
  ctr('runs', 1)
end
redis.call('HSET', keys[2], ARGV[6], ARGV[7])
sync_aux(keys[1], {keys[2], keys[3]})
touch_session(sid, ix, ARGV[8])
return {'ok'}
