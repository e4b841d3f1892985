"""Lua scripts of the Redis engine's record operations (see ``engine/_redis_lua.py``).

Conventions: ``ARGV[3]`` is the sweep bound (how many due records a call removes
before its own work); the operation's arguments follow. A script that can fail
returns ``{'nf'}`` (not found) or ``{'own', owner}`` (ownership) instead of raising,
so the Python side raises the engine's own errors.
"""

from __future__ import annotations

from typing import Final

__all__ = ["OPS"]

_SWEEP = "sweep(tonumber(ARGV[3]))\n"

OPS: Final[dict[str, str]] = {
    # ------------------------------------------------------------------ sessions
    # 4 sid, 5 t, 6 e, 7 created given, 8 ix, 9 uid, 10 n fields, fields..., runs...
    "upsert_session": _SWEEP
    + r"""
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
""",
    # 4 sid, 5 scope, 6 runs limit (-1: all), 7 refresh on read
    "get_session": _SWEEP
    + r"""
local sid = ARGV[4]
local ix = session_for(sid, ARGV[5])
if not ix then return false end
if ARGV[7] == '1' then restart('s' .. NUL .. sid, session_keys(sid), ix) end
return session_value(sid, tonumber(ARGV[6]))
""",
    # 4 sid, 5 scope, 6 name, 7 refresh on update
    "rename_session": _SWEEP
    + r"""
local sid = ARGV[4]
local ix = session_for(sid, ARGV[5])
if not ix then return {'nf'} end
redis.call('HSET', B .. ':s:' .. sid, 'n', ARGV[6])
touch_session(sid, ix, ARGV[7])
return {'ok', session_value(sid, -1)}
""",
    # 4 sid, 5 scope, 6 summary JSON, 7 refresh on update
    "set_summary": _SWEEP
    + r"""
local sid = ARGV[4]
local ix = session_for(sid, ARGV[5])
if not ix then return {'nf'} end
redis.call('HSET', B .. ':s:' .. sid, 'sm', ARGV[6])
touch_session(sid, ix, ARGV[7])
return {'ok'}
""",
    # 4 sid, 5 scope, 6 run_id, 7 run JSON, 8 refresh on update
    "append_run": _SWEEP
    + r"""
local sid = ARGV[4]
local ix = session_for(sid, ARGV[5])
if not ix then return {'nf'} end
local keys = session_keys(sid)
if redis.call('HEXISTS', keys[2], ARGV[6]) == 0 then
  local seq = redis.call('HINCRBY', keys[1], 'rs', 1)
  redis.call('ZADD', keys[3], seq, ARGV[6])
  redis.call('HINCRBY', B .. ':sn', sid, 1)
  ctr('runs', 1)
end
redis.call('HSET', keys[2], ARGV[6], ARGV[7])
sync_aux(keys[1], {keys[2], keys[3]})
touch_session(sid, ix, ARGV[8])
return {'ok'}
""",
    # 4 sid, 5 scope, 6 last n (-1: all), 7 refresh on read
    "get_runs": _SWEEP
    + r"""
local sid = ARGV[4]
local ix = session_for(sid, ARGV[5])
if not ix then return {'nf'} end
if ARGV[7] == '1' then restart('s' .. NUL .. sid, session_keys(sid), ix) end
return {'ok', session_runs(sid, tonumber(ARGV[6]))}
""",
    # 4 sid, 5 scope, 6 refresh on read
    "get_summary": _SWEEP
    + r"""
local sid = ARGV[4]
local ix = session_for(sid, ARGV[5])
if not ix then return {'nf'} end
if ARGV[6] == '1' then restart('s' .. NUL .. sid, session_keys(sid), ix) end
return {'ok', redis.call('HGET', B .. ':s:' .. sid, 'sm')}
""",
    # 4 scope, 5... session ids
    "delete_sessions": _SWEEP
    + r"""
local n = 0
for i = 5, #ARGV do
  local ix = session_for(ARGV[i], ARGV[4])
  if ix then remove(cjson.decode(ix), false); n = n + 1 end
end
return n
""",
    # ------------------------------------------------------------- ordered scans
    # 4 index suffix, 5 descending, 6 min, 7 max, 8 offset, 9 count, 10 kind (s/m/k).
    # Returns {members seen, entries gone, values}; gone entries left the index, so
    # the next batch starts at offset + seen - gone. Only the first batch sweeps.
    "scan": r"""
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
""",
    # ------------------------------------------------------------------ memories
    # 4 id (user NUL memory), 5 t, 6 e, 7 created given, 8 ix, 9 n fields, fields...
    "upsert_memory": _SWEEP
    + r"""
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
""",
    # 4 refresh on read, 5... ids. One value (or false) per id.
    "get_memories": _SWEEP
    + r"""
local out = {}
for i = 5, #ARGV do
  local key = B .. ':m:' .. ARGV[i]
  local member = 'm' .. NUL .. ARGV[i]
  local ix = live(member, key)
  if ix then
    if ARGV[4] == '1' then restart(member, {key}, ix) end
    out[#out + 1] = hash(key)
  else
    out[#out + 1] = false
  end
end
return out
""",
    # 4 user, 5... query terms. {docs, total length, {term, posting}..., lengths}
    "keyword_stats": _SWEEP
    + r"""
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
""",
    # 4 user or ''
    "memory_topics": r"""
while sweep(1000) == 1000 do end
if ARGV[4] == '' then return redis.call('HKEYS', B .. ':mtc') end
return redis.call('HKEYS', B .. ':mtc:' .. ARGV[4])
""",
    # 4 user, 5... topics: the user's memories having any of the topics (live).
    "topic_members": _SWEEP
    + r"""
local uid = ARGV[4]
local sets = {}
for i = 5, #ARGV do sets[#sets + 1] = B .. ':mt:' .. uid .. NUL .. ARGV[i] end
local out = {}
for _, mid in ipairs(redis.call('SUNION', unpack(sets))) do
  local id = uid .. NUL .. mid
  if live('m' .. NUL .. id, B .. ':m:' .. id) then out[#out + 1] = hash(B .. ':m:' .. id) end
end
return out
""",
    # 4 id
    "delete_memory": _SWEEP
    + r"""
local ix = live('m' .. NUL .. ARGV[4], B .. ':m:' .. ARGV[4])
if not ix then return 0 end
remove(cjson.decode(ix), false)
return 1
""",
    # 4 user
    "clear_memories": _SWEEP
    + r"""
local n = 0
for _, id in ipairs(redis.call('ZRANGE', B .. ':mi:u:user' .. NUL .. ARGV[4], 0, -1)) do
  local ix = live('m' .. NUL .. id, B .. ':m:' .. id)
  if ix then remove(cjson.decode(ix), false); n = n + 1 end
end
return n
""",
    # ------------------------------------------------------------ working memory
    # 4 id (conversation NUL type), 5 t, 6 e, 7 created given, 8 ix, 9 n fields, fields...
    "store_working": _SWEEP
    + r"""
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
""",
    # 4 id, 5 refresh on read
    "retrieve_working": _SWEEP
    + r"""
local key = B .. ':w:' .. ARGV[4]
local member = 'w' .. NUL .. ARGV[4]
local ix = live(member, key)
if not ix then return false end
if ARGV[5] == '1' then restart(member, {key}, ix) end
return hash(key)
""",
    # 4 id, 5 data, 6 has metadata, 7 metadata, 8 'set' (explicit ttl) or 'keep',
    # 9 t, 10 e, 11 refresh on update
    "update_working": _SWEEP
    + r"""
local key = B .. ':w:' .. ARGV[4]
local member = 'w' .. NUL .. ARGV[4]
local ix = live(member, key)
if not ix then return false end
redis.call('HSET', key, 'data', ARGV[5], 'u', NOWS)
if ARGV[6] == '1' then redis.call('HSET', key, 'metadata', ARGV[7]) end
if ARGV[8] == 'set' then set_deadline(member, {key}, ARGV[10], ARGV[9], ix)
elseif ARGV[11] == '1' then restart(member, {key}, ix) end
return hash(key)
""",
    # 4 id
    "delete_working": _SWEEP
    + r"""
local ix = live('w' .. NUL .. ARGV[4], B .. ':w:' .. ARGV[4])
if not ix then return 0 end
remove(cjson.decode(ix), false)
return 1
""",
    # ----------------------------------------------------------------- knowledge
    # 4 doc id, 5 t, 6 e, 7 created given, 8 ix, 9 n fields, fields...
    "upsert_doc": _SWEEP
    + r"""
local id = ARGV[4]
local key = B .. ':k:' .. id
local member = 'k' .. NUL .. id
local created
if live(member, key) then
  created = redis.call('HGET', key, 'c')
  redis.call('DEL', key)
else
  created = NOWS
  if ARGV[7] ~= '' then created = ARGV[7] end
  ctr('knowledge', 1)
end
put_fields(key, 10, tonumber(ARGV[9]))
redis.call('HSET', key, 'c', created, 'u', NOWS, 'ix', ARGV[8])
redis.call('ZADD', B .. ':ki:u', NOWS, id)
redis.call('ZADD', B .. ':ki:c', created, id)
set_deadline(member, {key}, ARGV[6], ARGV[5], ARGV[8])
return created
""",
    # 4 id, 5 refresh on read
    "get_doc": _SWEEP
    + r"""
local key = B .. ':k:' .. ARGV[4]
local member = 'k' .. NUL .. ARGV[4]
local ix = live(member, key)
if not ix then return false end
if ARGV[5] == '1' then restart(member, {key}, ix) end
return hash(key)
""",
    # 4 id
    "delete_doc": _SWEEP
    + r"""
local ix = live('k' .. NUL .. ARGV[4], B .. ':k:' .. ARGV[4])
if not ix then return 0 end
remove(cjson.decode(ix), false)
return 1
""",
    # ---------------------------------------------------------------- snapshots
    # Every live working-memory record of the partition (the other kinds are
    # dumped through ordered scans).
    "dump_working": r"""
while sweep(1000) == 1000 do end
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', B .. ':wa')) do
  if live('w' .. NUL .. id, B .. ':w:' .. id) then out[#out + 1] = hash(B .. ':w:' .. id) end
end
return out
""",
}
