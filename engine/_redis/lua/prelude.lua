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
