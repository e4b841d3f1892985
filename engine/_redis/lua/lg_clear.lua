-- lg_clear.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 batch. Remove up to ``batch`` items and threads; {removed, done}.
lg_sweep(tonumber(ARGV[3]))

local batch, removed = tonumber(ARGV[4]), 0
for _, nk in ipairs(redis.call('ZRANGE', B .. ':IN', 0, -1)) do
  for _, key in ipairs(redis.call('ZRANGE', B .. ':I:' .. nk, 0, batch - removed - 1)) do
    lg_drop_item(nk, key)
    removed = removed + 1
  end
  if removed >= batch then return {removed, 0} end
end
for _, tid in ipairs(redis.call('SRANDMEMBER', B .. ':CT', batch - removed)) do
  lg_drop_thread(tid)
  removed = removed + 1
end
return {removed, redis.call('ZCARD', B .. ':IN') + redis.call('SCARD', B .. ':CT') == 0 and 1 or 0}
