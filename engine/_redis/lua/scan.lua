-- scan.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 index suffix, 5 descending, 6 min, 7 max, 8 offset, 9 count, 10 kind (s/m/k).
--   Returns {members seen, entries gone, values}; gone entries left the index, so the next
--   batch starts at offset + seen - gone. Only the first batch sweeps.
if ARGV[8] == '0' then sweep(tonumber(ARGV[3])) end
local index = B .. ':' .. ARGV[4]
local members
if ARGV[5] == '1' then
  members = redis.call('ZRANGE', index, ARGV[7], ARGV[6], 'BYSCORE', 'REV',
                       'LIMIT', ARGV[8], ARGV[9])
else
  members = redis.call('ZRANGE', index, ARGV[6], ARGV[7], 'BYSCORE', 'LIMIT', ARGV[8], ARGV[9])
end
local kind = ARGV[10]
local out = {}
local gone = 0
for _, m in ipairs(members) do
  if live(kind .. NUL .. m, B .. ':' .. kind .. ':' .. m) then
    if kind == 's' then out[#out + 1] = session_value(m, -1)
    else out[#out + 1] = hash(B .. ':' .. kind .. ':' .. m) end
  else
    gone = gone + 1
    redis.call('ZREM', index, m)
  end
end
return {#members, gone, out}
