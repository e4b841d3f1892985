-- lg_get_checkpoint.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 tid, 5 ns, 6 cid ('' latest). {checkpoint, blobs, writes} or nil.
lg_sweep(tonumber(ARGV[3]))

local tid = ARGV[4]
if not lg_live_thread(tid) then return false end
local lane = tid .. NUL .. ARGV[5]
local cid = ARGV[6]
if cid == '' then
  cid = redis.call('ZREVRANGEBYLEX', B .. ':CO:' .. lane, '+', '-', 'LIMIT', 0, 1)[1]
  if not cid then return false end
end
if redis.call('HEXISTS', B .. ':CC:' .. lane, cid) == 0 then return false end
return lg_entry(lane, cid)
