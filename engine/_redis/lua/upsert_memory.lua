-- upsert_memory.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 id (user NUL memory), 5 t, 6 e, 7 created given, 8 ix, 9 n fields, fields...
sweep(tonumber(ARGV[3]))

local id = ARGV[4]
local key = B .. ':m:' .. id
local member = 'm' .. NUL .. id
local old = live(member, key)
local created
if old then
  created = redis.call('HGET', key, 'c')
  unindex_memory(cjson.decode(old))
  redis.call('DEL', key)
else
  created = NOWS
  if ARGV[7] ~= '' then created = ARGV[7] end
  ctr('memories', 1)
end
put_fields(key, 10, tonumber(ARGV[9]))
redis.call('HSET', key, 'c', created, 'u', NOWS, 'ix', ARGV[8])
index_memory(cjson.decode(ARGV[8]), created, NOWS)
set_deadline(member, {key}, ARGV[6], ARGV[5], ARGV[8])
return created
