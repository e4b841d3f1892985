-- store_working.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 id (conversation NUL type), 5 t, 6 e, 7 created given, 8 ix, 9 n fields, fields...
sweep(tonumber(ARGV[3]))

local id = ARGV[4]
local key = B .. ':w:' .. id
local member = 'w' .. NUL .. id
local created = NOWS
if live(member, key) then
  created = redis.call('HGET', key, 'c')
  redis.call('DEL', key)
else
  if ARGV[7] ~= '' then created = ARGV[7] end
  ctr('working', 1)
end
put_fields(key, 10, tonumber(ARGV[9]))
redis.call('HSET', key, 'c', created, 'u', NOWS, 'ix', ARGV[8])
redis.call('SADD', B .. ':wa', id)
set_deadline(member, {key}, ARGV[6], ARGV[5], ARGV[8])
return created
