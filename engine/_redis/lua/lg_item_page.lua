-- lg_item_page.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 lex min, 5 lex max, 6 count, 7 cursor score ('' none), 8 cursor nk, 9 cursor key.
-- Up to ``count`` entries {nk, key, body, meta} after the cursor, newest first
-- (ties: nk, key ascending), over the namespaces in [min, max].
lg_sweep(tonumber(ARGV[3]))

local count = tonumber(ARGV[6])
local cs = ARGV[7] ~= '' and tonumber(ARGV[7]) or nil
local after = function(score, nk, key)
  if not cs then return true end
  if score ~= cs then return score < cs end
  if nk ~= ARGV[8] then return nk > ARGV[8] end
  return key > ARGV[9]
end
local found = {}
for _, nk in ipairs(redis.call('ZRANGEBYLEX', B .. ':IN', ARGV[4], ARGV[5])) do
  local offset, taken = 0, 0
  while taken < count do
    local page = redis.call('ZREVRANGEBYSCORE', B .. ':I:' .. nk, cs and ARGV[7] or '+inf',
      '-inf', 'WITHSCORES', 'LIMIT', offset, count)
    if #page == 0 then break end
    for i = 1, #page, 2 do
      local score = tonumber(page[i + 1])
      if after(score, nk, page[i]) then
        found[#found + 1] = {score, nk, page[i]}
        taken = taken + 1
      end
    end
    offset = offset + #page / 2
  end
end
table.sort(found, function(a, b)
  if a[1] ~= b[1] then return a[1] > b[1] end
  if a[2] ~= b[2] then return a[2] < b[2] end
  return a[3] < b[3]
end)
local out = {}
for i = 1, math.min(count, #found) do
  local nk, key = found[i][2], found[i][3]
  out[i] = {nk, key, redis.call('HGET', B .. ':IV:' .. nk, key),
    redis.call('HGET', B .. ':IM:' .. nk, key)}
end
return out
