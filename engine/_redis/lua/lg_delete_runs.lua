-- lg_delete_runs.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4.. run ids. Checkpoints removed.
lg_sweep(tonumber(ARGV[3]))

local removed, lanes = 0, {}
for i = 4, #ARGV do
  for _, member in ipairs(redis.call('SMEMBERS', B .. ':CR:' .. ARGV[i])) do
    local tid, ns, cid = string.match(member, '^([^%z]*)%z([^%z]*)%z(.*)$')
    removed = removed + lg_drop_checkpoint(tid, ns, cid)
    lanes[tid .. NUL .. ns] = true
  end
  redis.call('DEL', B .. ':CR:' .. ARGV[i])
end
for lane in pairs(lanes) do lg_collect_blobs(lane) end
return removed
