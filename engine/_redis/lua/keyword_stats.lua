-- keyword_stats.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 user, 5... query terms. {docs, total length, {term, posting}..., lengths}
sweep(tonumber(ARGV[3]))

local uid = ARGV[4]
local stats = redis.call('HMGET', B .. ':kws:' .. uid, 'n', 'len')
local postings = {}
local docs = {}
local seen = {}
for i = 5, #ARGV do
  local flat = redis.call('HGETALL', B .. ':kw:' .. uid .. NUL .. ARGV[i])
  postings[#postings + 1] = flat
  for j = 1, #flat, 2 do
    if not seen[flat[j]] then seen[flat[j]] = true; docs[#docs + 1] = flat[j] end
  end
end
local lengths = {}
if #docs > 0 then lengths = redis.call('HMGET', B .. ':kwl:' .. uid, unpack(docs)) end
return {stats[1] or '0', stats[2] or '0', postings, docs, lengths}
