-- prelude.lua: shared by every script of the Redis engine; each script runs as this file
-- followed by <script>.lua (engine/_redis/_scripts.py joins them).
--
-- Every script runs inside one partition (one cluster slot): KEYS[1] is the partition's
-- counters key {prefix:P}:n (it routes the call), ARGV[1] the partition base {prefix:P}
-- and ARGV[2] the engine time (epoch seconds, as repr(float)). Every key a script
-- touches starts with that base, so it shares the slot. A script is atomic, so no crash
-- or concurrent client ever sees a record without its index entries or an index entry
-- without its record. ARGV[3] is the sweep bound (how many due records a call removes
-- before its own work); the operation's arguments follow (each script's header lists
-- them). A script that can fail returns {'nf'} (not found) or {'own', owner}
-- (ownership) instead of raising, so the Python side raises the engine's own errors.
--
-- Timestamps travel as the exact decimal strings Python made (repr); Lua only compares
-- them or adds a TTL and prints %.17g, which round-trips a double exactly. JSON is built
-- by Python; Lua only decodes the small index descriptions (ix: strings and integers),
-- never re-encodes a record. The key layout: engine/_redis/_keys.py, docs/scale-out.md.
local B = ARGV[1]
local NOWS = ARGV[2]
local NOW = tonumber(NOWS)
local NUL = '\0'

local function fmt(x) return string.format('%.17g', x) end
local function int(x) return string.format('%d', x) end  -- never '-0' (Redis rejects it)
local function ctr(field, by)
  if by ~= 0 then redis.call('HINCRBY', B .. ':n', field, int(by)) end
end
local function hash(key)
  local flat = redis.call('HGETALL', key)
  return flat
end

-- ------------------------------------------------------------- index upkeep
local function index_session(sid, ix, c, u)
  for _, g in ipairs(ix.g) do
    redis.call('ZADD', B .. ':si:u:' .. g, u, sid)
    redis.call('ZADD', B .. ':si:c:' .. g, c, sid)
  end
end
local function unindex_session(sid, ix)
  for _, g in ipairs(ix.g) do
    redis.call('ZREM', B .. ':si:u:' .. g, sid)
    redis.call('ZREM', B .. ':si:c:' .. g, sid)
  end
end

local function index_memory(ix, c, u)
  local uid, mid = ix.u, ix.m
  local member = uid .. NUL .. mid
  for _, g in ipairs({'all', 'user' .. NUL .. uid}) do
    redis.call('ZADD', B .. ':mi:u:' .. g, u, member)
    redis.call('ZADD', B .. ':mi:c:' .. g, c, member)
  end
  for _, topic in ipairs(ix.t) do
    redis.call('SADD', B .. ':mt:' .. uid .. NUL .. topic, mid)
    redis.call('HINCRBY', B .. ':mtc:' .. uid, topic, 1)
    redis.call('HINCRBY', B .. ':mtc', topic, 1)
  end
  for _, pair in ipairs(ix.w) do
    redis.call('HSET', B .. ':kw:' .. uid .. NUL .. pair[1], mid, pair[2])
  end
  redis.call('HSET', B .. ':kwl:' .. uid, mid, ix.l)
  redis.call('HINCRBY', B .. ':kws:' .. uid, 'n', 1)
  redis.call('HINCRBY', B .. ':kws:' .. uid, 'len', int(ix.l))
end
local function decr_field(key, field)
  if redis.call('HINCRBY', key, field, -1) <= 0 then redis.call('HDEL', key, field) end
end
local function unindex_memory(ix)
  local uid, mid = ix.u, ix.m
  local member = uid .. NUL .. mid
  for _, g in ipairs({'all', 'user' .. NUL .. uid}) do
    redis.call('ZREM', B .. ':mi:u:' .. g, member)
    redis.call('ZREM', B .. ':mi:c:' .. g, member)
  end
  for _, topic in ipairs(ix.t) do
    redis.call('SREM', B .. ':mt:' .. uid .. NUL .. topic, mid)
    decr_field(B .. ':mtc:' .. uid, topic)
    decr_field(B .. ':mtc', topic)
  end
  for _, pair in ipairs(ix.w) do
    redis.call('HDEL', B .. ':kw:' .. uid .. NUL .. pair[1], mid)
  end
  redis.call('HDEL', B .. ':kwl:' .. uid, mid)
  local stats = B .. ':kws:' .. uid
  if redis.call('HINCRBY', stats, 'n', -1) <= 0 then
    redis.call('DEL', stats)
  else
    redis.call('HINCRBY', stats, 'len', int(-ix.l))
  end
end

-- ------------------------------------------------------ records and removal
local KINDS = {s = 'sessions', m = 'memories', w = 'working', k = 'knowledge'}

local function record_key(ix)
  if ix.k == 's' then return B .. ':s:' .. ix.id end
  if ix.k == 'm' then return B .. ':m:' .. ix.u .. NUL .. ix.m end
  if ix.k == 'w' then return B .. ':w:' .. ix.id end
  return B .. ':k:' .. ix.id
end
local function member_of(ix)
  if ix.k == 'm' then return 'm' .. NUL .. ix.u .. NUL .. ix.m end
  return ix.k .. NUL .. ix.id
end

-- Remove a record and every index entry; ``ix`` is its index description.
local function remove(ix, expired)
  local kind = ix.k
  if kind == 's' then
    local sid = ix.id
    unindex_session(sid, ix)
    local runs = tonumber(redis.call('HGET', B .. ':sn', sid) or '0')
    redis.call('HDEL', B .. ':sn', sid)
    redis.call('DEL', B .. ':s:' .. sid, B .. ':sr:' .. sid, B .. ':so:' .. sid)
    ctr('runs', -runs)
  elseif kind == 'm' then
    unindex_memory(ix)
    redis.call('DEL', record_key(ix))
  elseif kind == 'w' then
    redis.call('DEL', B .. ':w:' .. ix.id)
    redis.call('SREM', B .. ':wa', ix.id)
  else
    redis.call('ZREM', B .. ':ki:u', ix.id)
    redis.call('ZREM', B .. ':ki:c', ix.id)
    redis.call('DEL', B .. ':k:' .. ix.id)
  end
  ctr(KINDS[kind], -1)
  if expired then ctr('expired_' .. KINDS[kind], 1) end
  local member = member_of(ix)
  redis.call('ZREM', B .. ':x', member)
  redis.call('HDEL', B .. ':xm', member)
end

-- Remove up to ``limit`` records whose deadline is <= now; return how many.
local function sweep(limit)
  local due = redis.call('ZRANGEBYSCORE', B .. ':x', '-inf', NOWS, 'LIMIT', 0, limit)
  for _, member in ipairs(due) do
    local ix = redis.call('HGET', B .. ':xm', member)
    if ix then remove(cjson.decode(ix), true) else redis.call('ZREM', B .. ':x', member) end
  end
  return #due
end

-- The live record's ``ix`` JSON, or false. An expired record met here is removed
-- (with its indexes); so is what is left of one the server already evicted.
local function live(member, key)
  local v = redis.call('HMGET', key, 'ix', 'e')
  if v[1] then
    if v[2] and tonumber(v[2]) <= NOW then
      remove(cjson.decode(v[1]), true)
      return false
    end
    return v[1]
  end
  local stale = redis.call('HGET', B .. ':xm', member)
  if stale then remove(cjson.decode(stale), true) end
  return false
end

-- ------------------------------------------------------------------- TTLs
-- Apply deadline ``e`` (string or '') and TTL ``t`` to ``keys[1]`` (the record)
-- and its auxiliary keys; keep the deadline index and its ``ix`` copy in step.
local function set_deadline(member, keys, e, t, ix)
  if e ~= '' then
    redis.call('ZADD', B .. ':x', e, member)
    redis.call('HSET', B .. ':xm', member, ix)
    redis.call('HSET', keys[1], 'e', e, 't', t)
    local ms = math.ceil(tonumber(t) * 1000)
    for _, key in ipairs(keys) do redis.call('PEXPIRE', key, ms) end
  else
    redis.call('ZREM', B .. ':x', member)
    redis.call('HDEL', B .. ':xm', member)
    redis.call('HDEL', keys[1], 'e', 't')
    for _, key in ipairs(keys) do redis.call('PERSIST', key) end
  end
end

-- Restart the stored TTL (if any) from now; used by refresh-on-read/update.
local function restart(member, keys, ix)
  local t = redis.call('HGET', keys[1], 't')
  if t then set_deadline(member, keys, fmt(NOW + tonumber(t)), t, ix) end
end

-- Give auxiliary keys the record's remaining server TTL.
local function sync_aux(key, aux)
  local pt = redis.call('PTTL', key)
  for _, k in ipairs(aux) do
    if pt > 0 then redis.call('PEXPIRE', k, pt) else redis.call('PERSIST', k) end
  end
end

-- Put hash fields given as ARGV[first .. first + 2n - 1]; return the next index.
local function put_fields(key, first, n)
  if n > 0 then
    local args = {}
    for i = first, first + 2 * n - 1 do args[#args + 1] = ARGV[i] end
    redis.call('HSET', key, unpack(args))
  end
  return first + 2 * n
end

-- ---------------------------------------------------------------- sessions
local function session_keys(sid)
  return {B .. ':s:' .. sid, B .. ':sr:' .. sid, B .. ':so:' .. sid}
end
local function session_runs(sid, last_n)
  if last_n == 0 then return {} end
  local start = 0
  if last_n > 0 then start = -last_n end
  local ids = redis.call('ZRANGE', B .. ':so:' .. sid, start, -1)
  if #ids == 0 then return {} end
  return redis.call('HMGET', B .. ':sr:' .. sid, unpack(ids))
end
local function session_value(sid, last_n)
  return {hash(B .. ':s:' .. sid), session_runs(sid, last_n)}
end
-- The live session's ix JSON if it exists (and belongs to ``scope``), else false.
local function session_for(sid, scope)
  local key = B .. ':s:' .. sid
  local ix = live('s' .. NUL .. sid, key)
  if not ix then return false end
  if scope ~= '' and redis.call('HGET', key, 'uid') ~= scope then return false end
  return ix
end
-- A partial update: updated_at = now (re-sorted) and the TTL maybe restarted.
local function touch_session(sid, ix, refresh)
  local key = B .. ':s:' .. sid
  redis.call('HSET', key, 'u', NOWS)
  for _, g in ipairs(cjson.decode(ix).g) do
    redis.call('ZADD', B .. ':si:u:' .. g, NOWS, sid)
  end
  if refresh == '1' then restart('s' .. NUL .. sid, session_keys(sid), ix) end
end

-- LangGraph's records (mem.items, mem.checkpoints): the lg_*.lua scripts, called from
-- engine/_redis/_ops_langgraph.py. Each first removes a bounded batch of due items and
-- threads (lg_sweep) instead of calling sweep. Keys, with nk a namespace's labels joined
-- by U+001E and lane = tid NUL ns:
--
--   B:IN                     zset         namespaces (score 0: lexical order)
--   B:I:<nk>                 zset         the namespace's keys by updated_at
--   B:IV:<nk> / B:IM:<nk>    hash         key -> item JSON / "c u e" times
--   B:IX / B:IT              zset / hash  deadlines / TTLs of i NUL nk NUL key (items)
--                                         and t NUL tid (threads)
--   B:CT, B:CN:<tid>         set          threads; a thread's namespaces
--   B:CO:<lane>              zset         checkpoint ids (score 0: id order)
--   B:CC:<lane>              hash         checkpoint id -> checkpoint JSON
--   B:CB:<lane>              hash         channel NUL version -> blob JSON
--   B:CW:<lane> NUL <cid>    hash         task NUL idx -> pending write JSON
--   B:CWL:<lane>             set          checkpoint ids with pending writes
--   B:CR:<run>, B:CRT:<tid>  set          tid NUL ns NUL cid of a run; a thread's run ids
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
