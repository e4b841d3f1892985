-- lg_list_checkpoints.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 tid ('' all), 5 has ns, 6 ns, 7 cid ('' any), 8 before ('' none), 9 limit ('').
-- Entries {cid, tid, ns, entry} newest first per lane (the caller merges).
lg_sweep(tonumber(ARGV[3]))

local threads = ARGV[4] ~= '' and {ARGV[4]} or redis.call('SMEMBERS', B .. ':CT')
local limit = ARGV[9] ~= '' and tonumber(ARGV[9]) or nil
local out = {}
for _, tid in ipairs(threads) do
  if lg_live_thread(tid) then
    for _, ns in ipairs(redis.call('SMEMBERS', B .. ':CN:' .. tid)) do
      if ARGV[5] == '0' or ns == ARGV[6] then
        local lane = tid .. NUL .. ns
        local top = ARGV[8] ~= '' and ('(' .. ARGV[8]) or '+'
        local ids = ARGV[7] ~= '' and {ARGV[7]} or
          redis.call('ZREVRANGEBYLEX', B .. ':CO:' .. lane, top, '-', 'LIMIT', 0, limit or -1)
        for _, cid in ipairs(ids) do
          if redis.call('HEXISTS', B .. ':CC:' .. lane, cid) == 1
              and (ARGV[8] == '' or cid < ARGV[8]) then
            out[#out + 1] = {cid, tid, ns, lg_entry(lane, cid)}
          end
        end
      end
    end
  end
end
return out
