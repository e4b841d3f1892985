-- lg_prune.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 tid, 5 strategy. Checkpoints removed.
lg_sweep(tonumber(ARGV[3]))

local tid = ARGV[4]
if not lg_live_thread(tid) then return 0 end
if ARGV[5] == 'delete' then return lg_drop_thread(tid) end
local removed = 0
for _, ns in ipairs(redis.call('SMEMBERS', B .. ':CN:' .. tid)) do
  local lane = tid .. NUL .. ns
  local ids = redis.call('ZRANGE', B .. ':CO:' .. lane, 0, -2)
  for _, cid in ipairs(ids) do removed = removed + lg_drop_checkpoint(tid, ns, cid) end
  lg_collect_blobs(lane)
end
return removed
