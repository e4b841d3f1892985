-- upsert_session.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 sid, 5 t, 6 e, 7 created given, 8 ix, 9 uid, 10 n fields, fields..., runs...
sweep(tonumber(ARGV[3]))

local sid = ARGV[4]
local keys = session_keys(sid)
local key = keys[1]
local member = 's' .. NUL .. sid
local old = live(member, key)
local created
if old then
  local owner = redis.call('HGET', key, 'uid')
  if owner and owner ~= ARGV[9] then return {'own', owner} end
  created = redis.call('HGET', key, 'c')
  unindex_session(sid, cjson.decode(old))
  ctr('runs', -tonumber(redis.call('HGET', B .. ':sn', sid) or '0'))
  redis.call('DEL', unpack(keys))
else
  created = NOWS
  if ARGV[7] ~= '' then created = ARGV[7] end
  ctr('sessions', 1)
end
local nxt = put_fields(key, 11, tonumber(ARGV[10]))
redis.call('HSET', key, 'c', created, 'u', NOWS, 'ix', ARGV[8])
local n = 0
for i = nxt, #ARGV, 2 do
  n = n + 1
  redis.call('HSET', keys[2], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', keys[3], n, ARGV[i])
end
redis.call('HSET', key, 'rs', n)
redis.call('HSET', B .. ':sn', sid, n)
ctr('runs', n)
index_session(sid, cjson.decode(ARGV[8]), created, NOWS)
set_deadline(member, keys, ARGV[6], ARGV[5], ARGV[8])
return {'ok', created}
