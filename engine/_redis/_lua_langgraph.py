"""Lua for LangGraph's records on Redis: namespaced items and checkpoint threads.

Conventions as in ``engine._redis._lua`` (``ARGV[1]`` the partition base ``B``,
``ARGV[2]`` the engine time, ``ARGV[3]`` the sweep bound; operation arguments from
``ARGV[4]``). Keys, with ``nk`` a namespace's labels joined by U+001E and
``lane = tid NUL ns``:

====================================  ==========  ======================================
key                                   type        holds
====================================  ==========  ======================================
``B:IN``                               zset        namespaces (score 0: lexical order)
``B:I:<nk>``                           zset        the namespace's keys by updated_at
``B:IV:<nk>`` / ``B:IM:<nk>``          hash        key -> item JSON / ``"c u e"`` times
``B:IX`` / ``B:IT``                    zset / hash deadlines / TTLs of ``i NUL nk NUL key``
                                                   and ``t NUL tid`` (threads)
``B:CT``, ``B:CN:<tid>``               set         threads; a thread's namespaces
``B:CO:<lane>``                        zset        checkpoint ids (score 0: id order)
``B:CC:<lane>``                        hash        checkpoint id -> checkpoint JSON
``B:CB:<lane>``                        hash        ``channel NUL version`` -> blob JSON
``B:CW:<lane> NUL <cid>``              hash        ``task NUL idx`` -> pending write JSON
``B:CWL:<lane>``                       set         checkpoint ids with pending writes
``B:CR:<run>``, ``B:CRT:<tid>``        set         ``tid NUL ns NUL cid`` of a run; a
                                                   thread's run ids
====================================  ==========  ======================================

Every script first removes a bounded batch of due items and threads (``lg_sweep``).
"""

from __future__ import annotations

from typing import Final

__all__ = ["LANGGRAPH_SCRIPTS"]

_HELPERS: Final = r"""
local function lg_drop_item(nk, key)
  local member = 'i' .. NUL .. nk .. NUL .. key
  redis.call('ZREM', B .. ':I:' .. nk, key)
  redis.call('HDEL', B .. ':IV:' .. nk, key)
  redis.call('HDEL', B .. ':IM:' .. nk, key)
  redis.call('ZREM', B .. ':IX', member)
  redis.call('HDEL', B .. ':IT', member)
  if redis.call('ZCARD', B .. ':I:' .. nk) == 0 then redis.call('ZREM', B .. ':IN', nk) end
end
local function lg_unrun(tid, ns, cid, run)
  if run and run ~= cjson.null and run ~= '' then
    redis.call('SREM', B .. ':CR:' .. run, tid .. NUL .. ns .. NUL .. cid)
  end
end
local function lg_drop_checkpoint(tid, ns, cid)
  local lane = tid .. NUL .. ns
  local json = redis.call('HGET', B .. ':CC:' .. lane, cid)
  if not json then return 0 end
  lg_unrun(tid, ns, cid, cjson.decode(json).run_id)
  redis.call('HDEL', B .. ':CC:' .. lane, cid)
  redis.call('ZREM', B .. ':CO:' .. lane, cid)
  redis.call('DEL', B .. ':CW:' .. lane .. NUL .. cid)
  redis.call('SREM', B .. ':CWL:' .. lane, cid)
  return 1
end
local function lg_collect_blobs(lane)
  local used = {}
  for _, json in ipairs(redis.call('HVALS', B .. ':CC:' .. lane)) do
    for channel, version in pairs(cjson.decode(json).versions) do
      used[channel .. NUL .. version] = true
    end
  end
  for _, field in ipairs(redis.call('HKEYS', B .. ':CB:' .. lane)) do
    if not used[field] then redis.call('HDEL', B .. ':CB:' .. lane, field) end
  end
end
local function lg_drop_thread(tid)
  local count = 0
  for _, ns in ipairs(redis.call('SMEMBERS', B .. ':CN:' .. tid)) do
    local lane = tid .. NUL .. ns
    for _, cid in ipairs(redis.call('ZRANGE', B .. ':CO:' .. lane, 0, -1)) do
      count = count + lg_drop_checkpoint(tid, ns, cid)
    end
    for _, cid in ipairs(redis.call('SMEMBERS', B .. ':CWL:' .. lane)) do
      redis.call('DEL', B .. ':CW:' .. lane .. NUL .. cid)
    end
    redis.call('DEL', B .. ':CO:' .. lane, B .. ':CB:' .. lane, B .. ':CC:' .. lane,
      B .. ':CWL:' .. lane)
  end
  redis.call('DEL', B .. ':CN:' .. tid)
  redis.call('SREM', B .. ':CT', tid)
  redis.call('ZREM', B .. ':IX', 't' .. NUL .. tid)
  redis.call('HDEL', B .. ':IT', 't' .. NUL .. tid)
  return count
end
local function lg_sweep(limit)
  local due = redis.call('ZRANGEBYSCORE', B .. ':IX', '-inf', NOWS, 'LIMIT', 0, limit)
  for _, member in ipairs(due) do
    local rest = string.sub(member, 3)
    if string.sub(member, 1, 1) == 'i' then
      local cut = string.find(rest, NUL, 1, true)
      lg_drop_item(string.sub(rest, 1, cut - 1), string.sub(rest, cut + 1))
    else
      lg_drop_thread(rest)
    end
  end
  return #due
end
local function lg_deadline(member, ttl)
  if ttl == '' then
    redis.call('ZREM', B .. ':IX', member)
    redis.call('HDEL', B .. ':IT', member)
    return '-'
  end
  local e = fmt(NOW + tonumber(ttl))
  redis.call('ZADD', B .. ':IX', e, member)
  redis.call('HSET', B .. ':IT', member, ttl)
  return e
end
local function lg_expired(member)
  local e = redis.call('ZSCORE', B .. ':IX', member)
  return e and tonumber(e) <= NOW
end
local function lg_live_thread(tid)
  if lg_expired('t' .. NUL .. tid) then lg_drop_thread(tid) end
  return redis.call('SISMEMBER', B .. ':CT', tid) == 1
end
local function lg_live_item(nk, key)
  if lg_expired('i' .. NUL .. nk .. NUL .. key) then lg_drop_item(nk, key) end
  return redis.call('HGET', B .. ':IM:' .. nk, key)
end
local function lg_refresh(nk, key, meta)
  local member = 'i' .. NUL .. nk .. NUL .. key
  local ttl = redis.call('HGET', B .. ':IT', member)
  if not ttl then return meta end
  local c, u = string.match(meta, '^(%S+) (%S+) ')
  local e = lg_deadline(member, ttl)
  meta = c .. ' ' .. u .. ' ' .. e
  redis.call('HSET', B .. ':IM:' .. nk, key, meta)
  return meta
end
local function lg_entry(lane, cid)
  local json = redis.call('HGET', B .. ':CC:' .. lane, cid)
  local blobs = {}
  for channel, version in pairs(cjson.decode(json).versions) do
    local blob = redis.call('HGET', B .. ':CB:' .. lane, channel .. NUL .. version)
    if blob then blobs[#blobs + 1] = blob end
  end
  return {json, blobs, redis.call('HVALS', B .. ':CW:' .. lane .. NUL .. cid)}
end
lg_sweep(tonumber(ARGV[3]))
"""

_SCRIPTS: Final[dict[str, str]] = {
    # 4 nk, 5 key, 6 body JSON, 7 ttl. Returns created_at.
    "lg_put_item": r"""
local nk, key = ARGV[4], ARGV[5]
local old = lg_live_item(nk, key)
local c = old and string.match(old, '^(%S+) ') or NOWS
local e = lg_deadline('i' .. NUL .. nk .. NUL .. key, ARGV[7])
redis.call('ZADD', B .. ':I:' .. nk, NOWS, key)
redis.call('ZADD', B .. ':IN', 0, nk)
redis.call('HSET', B .. ':IV:' .. nk, key, ARGV[6])
redis.call('HSET', B .. ':IM:' .. nk, key, c .. ' ' .. NOWS .. ' ' .. e)
return c
""",
    # 4 nk, 5 key, 6 refresh. Returns {body, meta} or nil.
    "lg_get_item": r"""
local nk, key = ARGV[4], ARGV[5]
local meta = lg_live_item(nk, key)
if not meta then return false end
if ARGV[6] == '1' then meta = lg_refresh(nk, key, meta) end
return {redis.call('HGET', B .. ':IV:' .. nk, key), meta}
""",
    # 4 nk, 5 key. Returns 1 if a live item was deleted.
    "lg_delete_item": r"""
if not lg_live_item(ARGV[4], ARGV[5]) then return 0 end
lg_drop_item(ARGV[4], ARGV[5])
return 1
""",
    # 4 lex min, 5 lex max, 6 count, 7 cursor score ('' none), 8 cursor nk, 9 cursor key.
    # Up to ``count`` entries {nk, key, body, meta} after the cursor, newest first
    # (ties: nk, key ascending), over the namespaces in [min, max].
    "lg_item_page": r"""
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
""",
    # 4.. pairs of nk, key: restart their TTLs. Returns their metas (false if gone).
    "lg_touch_items": r"""
local out = {}
for i = 4, #ARGV, 2 do
  local meta = lg_live_item(ARGV[i], ARGV[i + 1])
  out[#out + 1] = meta and lg_refresh(ARGV[i], ARGV[i + 1], meta) or false
end
return out
""",
    # 4 lex min, 5 lex max. The namespaces in range (after the sweep).
    "lg_namespaces": r"""
return redis.call('ZRANGEBYLEX', B .. ':IN', ARGV[4], ARGV[5])
""",
    # 4 tid, 5 ns, 6 cid, 7 checkpoint JSON, 8 run id, 9 ttl, 10.. blob field, JSON.
    "lg_put_checkpoint": r"""
local tid, ns, cid = ARGV[4], ARGV[5], ARGV[6]
lg_live_thread(tid)
local lane = tid .. NUL .. ns
lg_drop_checkpoint(tid, ns, cid)
redis.call('HSET', B .. ':CC:' .. lane, cid, ARGV[7])
redis.call('ZADD', B .. ':CO:' .. lane, 0, cid)
redis.call('SADD', B .. ':CN:' .. tid, ns)
redis.call('SADD', B .. ':CT', tid)
if ARGV[8] ~= '' then
  redis.call('SADD', B .. ':CR:' .. ARGV[8], tid .. NUL .. ns .. NUL .. cid)
end
for i = 10, #ARGV, 2 do redis.call('HSET', B .. ':CB:' .. lane, ARGV[i], ARGV[i + 1]) end
lg_deadline('t' .. NUL .. tid, ARGV[9])
return 1
""",
    # 4 tid, 5 ttl, 6.. groups of ns, cid, field, idx, JSON. Returns how many stored.
    "lg_put_writes": r"""
local tid = ARGV[4]
lg_live_thread(tid)
local stored = 0
for i = 6, #ARGV, 5 do
  local ns = ARGV[i]
  local key = B .. ':CW:' .. tid .. NUL .. ns .. NUL .. ARGV[i + 1]
  if tonumber(ARGV[i + 3]) < 0 or redis.call('HEXISTS', key, ARGV[i + 2]) == 0 then
    redis.call('HSET', key, ARGV[i + 2], ARGV[i + 4])
    redis.call('SADD', B .. ':CWL:' .. tid .. NUL .. ns, ARGV[i + 1])
    stored = stored + 1
  end
  redis.call('SADD', B .. ':CN:' .. tid, ns)
end
redis.call('SADD', B .. ':CT', tid)
lg_deadline('t' .. NUL .. tid, ARGV[5])
return stored
""",
    # 4 tid, 5 ns, 6 cid ('' latest). {checkpoint, blobs, writes} or nil.
    "lg_get_checkpoint": r"""
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
""",
    # 4 tid ('' all), 5 has ns, 6 ns, 7 cid ('' any), 8 before ('' none), 9 limit ('').
    # Entries {cid, tid, ns, entry} newest first per lane (the caller merges).
    "lg_list_checkpoints": r"""
local threads = ARGV[4] ~= '' and {ARGV[4]} or redis.call('SMEMBERS', B .. ':CT')
local limit = ARGV[9] ~= '' and tonumber(ARGV[9]) or nil
local out = {}
for _, tid in ipairs(threads) do
  if lg_live_thread(tid) then
    for _, ns in ipairs(redis.call('SMEMBERS', B .. ':CN:' .. tid)) do
      if ARGV[5] == '0' or ns == ARGV[6] then
        local lane = tid .. NUL .. ns
        local top = ARGV[8] ~= '' and ('(' .. ARGV[8]) or '+'
        local ids = ARGV[7] ~= '' and {ARGV[7]} or
          redis.call('ZREVRANGEBYLEX', B .. ':CO:' .. lane, top, '-', 'LIMIT', 0, limit or -1)
        for _, cid in ipairs(ids) do
          if redis.call('HEXISTS', B .. ':CC:' .. lane, cid) == 1
              and (ARGV[8] == '' or cid < ARGV[8]) then
            out[#out + 1] = {cid, tid, ns, lg_entry(lane, cid)}
          end
        end
      end
    end
  end
end
return out
""",
    # 4 tid. 1 if the thread was live.
    "lg_delete_thread": r"""
if not lg_live_thread(ARGV[4]) then return 0 end
lg_drop_thread(ARGV[4])
return 1
""",
    # 4.. run ids. Checkpoints removed.
    "lg_delete_runs": r"""
local removed, lanes = 0, {}
for i = 4, #ARGV do
  for _, member in ipairs(redis.call('SMEMBERS', B .. ':CR:' .. ARGV[i])) do
    local tid, ns, cid = string.match(member, '^([^%z]*)%z([^%z]*)%z(.*)$')
    removed = removed + lg_drop_checkpoint(tid, ns, cid)
    lanes[tid .. NUL .. ns] = true
  end
  redis.call('DEL', B .. ':CR:' .. ARGV[i])
end
for lane in pairs(lanes) do lg_collect_blobs(lane) end
return removed
""",
    # 4 tid, 5 strategy. Checkpoints removed.
    "lg_prune": r"""
local tid = ARGV[4]
if not lg_live_thread(tid) then return 0 end
if ARGV[5] == 'delete' then return lg_drop_thread(tid) end
local removed = 0
for _, ns in ipairs(redis.call('SMEMBERS', B .. ':CN:' .. tid)) do
  local lane = tid .. NUL .. ns
  local ids = redis.call('ZRANGE', B .. ':CO:' .. lane, 0, -2)
  for _, cid in ipairs(ids) do removed = removed + lg_drop_checkpoint(tid, ns, cid) end
  lg_collect_blobs(lane)
end
return removed
""",
    # 4 tid. {checkpoints, blobs, writes} JSON lists of the thread.
    "lg_export_thread": r"""
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
""",
    # 4 batch. Remove up to ``batch`` items and threads; {removed, done}.
    "lg_clear": r"""
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
""",
    # 4 limit. Due items and threads removed.
    "lg_sweep": "return lg_sweep(tonumber(ARGV[4]))",
}

LANGGRAPH_SCRIPTS: Final = {name: _HELPERS + body for name, body in _SCRIPTS.items()}
