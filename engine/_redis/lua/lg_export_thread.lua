-- lg_export_thread.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 tid. {checkpoints, blobs, writes} JSON lists of the thread.
lg_sweep(tonumber(ARGV[3]))

local tid = ARGV[4]
local c, b, w = {}, {}, {}
if lg_live_thread(tid) then
  for _, ns in ipairs(redis.call('SMEMBERS', B .. ':CN:' .. tid)) do
    local lane = tid .. NUL .. ns
    for _, json in ipairs(redis.call('HVALS', B .. ':CC:' .. lane)) do c[#c + 1] = json end
    for _, json in ipairs(redis.call('HVALS', B .. ':CB:' .. lane)) do b[#b + 1] = json end
    for _, cid in ipairs(redis.call('SMEMBERS', B .. ':CWL:' .. lane)) do
      for _, json in ipairs(redis.call('HVALS', B .. ':CW:' .. lane .. NUL .. cid)) do
        w[#w + 1] = json
      end
    end
  end
end
return {c, b, w}
