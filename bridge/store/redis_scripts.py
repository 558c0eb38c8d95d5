"""Lua scripts of the Redis store: each read-check-write runs atomically inside Redis.

Keys of other records are built inside the scripts from the prefix (ARGV[1]), so the store
needs a standalone (or Sentinel-managed) Redis, not Redis Cluster.
"""

from __future__ import annotations

# KEYS: handover hash, open-by-session, open (all), open by provider, open by customer,
#       by-conversation (or any key when there is no conversation id)
# ARGV: prefix, id, created_at, has conversation ("1"/"0"), field, value, ...
CREATE_HANDOVER = """
local cur = redis.call('GET', KEYS[2])
if cur == ARGV[2] then return {'ok'} end  -- a resend (see OUTBOX_PUT): stored by its first run
if cur then return {'open', cur} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists', ARGV[2]} end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[5], ARGV[3], ARGV[2])
if ARGV[4] == '1' then
  local other = redis.call('GET', KEYS[6])
  local newer = false
  if other and other ~= ARGV[2] then
    local oc = redis.call('HGET', ARGV[1] .. 'h:' .. other, 'created_at')
    newer = oc and tonumber(oc) > tonumber(ARGV[3])
  end
  if not newer then redis.call('SET', KEYS[6], ARGV[2]) end
end
return {'ok'}
"""

# KEYS: handover hash.  ARGV: prefix, status, reason, now.  Returns 1 for the one caller that
# ended it, 0 when it had already ended or does not exist.
FINISH_HANDOVER = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ended = redis.call('HMGET', KEYS[1], 'ended_at', 'end_reason')
if ended[1] then
  -- A resend of the call that ended it (see OUTBOX_PUT) carries the same time and reason.
  if ended[1] == ARGV[4] and ended[2] == ARGV[3] then return 1 end
  return 0
end
local f = redis.call('HMGET', KEYS[1], 'id', '_skey', '_cust', 'provider_id')
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'end_reason', ARGV[3], 'ended_at', ARGV[4],
           'updated_at', ARGV[4])
redis.call('HDEL', KEYS[1], 'pending_end_at')
local sk = ARGV[1] .. 'h:open:s:' .. f[2]
if redis.call('GET', sk) == f[1] then redis.call('DEL', sk) end
redis.call('ZREM', ARGV[1] .. 'h:cust:' .. f[3], f[1])
redis.call('ZREM', ARGV[1] .. 'h:open', f[1])
redis.call('ZREM', ARGV[1] .. 'h:open:p:' .. f[4], f[1])
return 1
"""

# Scripts that add a record take an operation key (KEYS' last): a command redis-py sends again
# because its connection broke (a failover) finds the result of its first run there and
# returns it, instead of adding the record twice. ARGV's last is that key's TTL in seconds.
# KEYS: id counter, pending ids, due keys, operation key.
# ARGV: prefix, key, kind, payload, now, operation TTL
OUTBOX_PUT = """
local done = redis.call('GET', KEYS[4])
if done then return tonumber(done) end
local id = redis.call('INCR', KEYS[1])
local ik = ARGV[1] .. 'o:i:' .. id
redis.call('HSET', ik, 'id', id, 'key', ARGV[2], 'kind', ARGV[3], 'payload', ARGV[4],
           'attempts', 0, 'next_attempt_at', ARGV[5], 'created_at', ARGV[5])
local n = redis.call('RPUSH', ARGV[1] .. 'o:q:' .. ARGV[2], id)
redis.call('ZADD', KEYS[2], id, id)
if n == 1 then redis.call('ZADD', KEYS[3], ARGV[5], ARGV[2]) end
redis.call('SET', KEYS[4], id, 'EX', ARGV[6])
return id
"""

# An accepted webhook: the dedupe key and the enqueue in one step (OUTBOX_PUT on the inbound
# prefix); the head of an idle key is leased to the owner at once when one is given.
# The dedupe key holds "<call token>|<item id>": a resend of the same call (see OUTBOX_PUT)
# finds its own token and answers the item it stored, instead of calling it a duplicate.
# KEYS: dedupe key, id counter, pending ids, due keys, leased keys
# ARGV: prefix, key, kind, payload, now, dedupe ttl ms, owner ('' for none), lease_until, token
ACCEPT_INBOUND = """
local mark = redis.call('GET', KEYS[1])
if mark then
  local token, earlier = string.match(mark, '^(.-)|(%d+)$')
  if token == ARGV[9] then return redis.call('HGETALL', ARGV[1] .. 'o:i:' .. earlier) end
  return false
end
local id = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[9] .. '|' .. id, 'PX', ARGV[6])
local ik = ARGV[1] .. 'o:i:' .. id
redis.call('HSET', ik, 'id', id, 'key', ARGV[2], 'kind', ARGV[3], 'payload', ARGV[4],
           'attempts', 0, 'next_attempt_at', ARGV[5], 'created_at', ARGV[5])
local n = redis.call('RPUSH', ARGV[1] .. 'o:q:' .. ARGV[2], id)
redis.call('ZADD', KEYS[3], id, id)
if n == 1 then
  if ARGV[7] ~= '' then
    redis.call('HSET', ik, 'lease_owner', ARGV[7], 'lease_until', ARGV[8], 'attempts', 1)
    redis.call('ZADD', KEYS[5], ARGV[8], ARGV[2])
  else
    redis.call('ZADD', KEYS[4], ARGV[5], ARGV[2])
  end
end
return redis.call('HGETALL', ik)
"""

# Keys whose head is due wait in "due" (score = next_attempt_at); leased heads wait in "lease"
# (score = lease_until) and return to "due" when the lease runs out.
# KEYS: due keys, leased keys.  ARGV: prefix, now, limit, lease_until, owner, kinds
OUTBOX_CLAIM = """
local P, now, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
-- ARGV[6]: the kinds to claim, newline-separated (empty: every kind)
local kinds = nil
if ARGV[6] and ARGV[6] ~= '' then
  kinds = {}
  for kind in string.gmatch(ARGV[6], '[^\\n]+') do kinds[kind] = true end
end
local function wanted(head)
  return kinds == nil or kinds[redis.call('HGET', P .. 'o:i:' .. head, 'kind')] == true
end
for _, k in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])) do
  redis.call('ZREM', KEYS[2], k)
  local head = redis.call('LINDEX', P .. 'o:q:' .. k, 0)
  if head then
    local ik = P .. 'o:i:' .. head
    redis.call('HDEL', ik, 'lease_owner', 'lease_until')
    redis.call('ZADD', KEYS[1], redis.call('HGET', ik, 'next_attempt_at'), k)
  end
end
local picked = {}
-- The owner's own live leases are claimable again; live leases are the few items in flight.
for _, k in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if #picked >= limit then break end
  local head = redis.call('LINDEX', P .. 'o:q:' .. k, 0)
  if head then
    local f = redis.call('HMGET', P .. 'o:i:' .. head, 'lease_owner', 'next_attempt_at')
    if f[1] == ARGV[5] and tonumber(f[2]) <= now and wanted(head) then table.insert(picked, k) end
  end
end
if #picked < limit and kinds == nil then
  for _, k in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0,
                                limit - #picked)) do
    table.insert(picked, k)
  end
elseif #picked < limit then
  -- Only some kinds: walk the due keys until enough of them have a head of those kinds.
  for _, k in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])) do
    if #picked >= limit then break end
    local head = redis.call('LINDEX', P .. 'o:q:' .. k, 0)
    if head and wanted(head) then table.insert(picked, k) end
  end
end
local out = {}
for _, k in ipairs(picked) do
  local head = redis.call('LINDEX', P .. 'o:q:' .. k, 0)
  local ik = P .. 'o:i:' .. head
  redis.call('ZREM', KEYS[1], k)
  redis.call('ZADD', KEYS[2], ARGV[4], k)
  redis.call('HSET', ik, 'lease_owner', ARGV[5], 'lease_until', ARGV[4])
  redis.call('HINCRBY', ik, 'attempts', 1)
  table.insert(out, redis.call('HGETALL', ik))
end
return out
"""

# KEYS: due keys, leased keys, pending ids, dead ids.
# ARGV: prefix, id, "done"|"dead", error, fence owner ('' for none: any holder)
OUTBOX_REMOVE = """
local P, id = ARGV[1], ARGV[2]
if not redis.call('ZSCORE', KEYS[3], id) then return 0 end
local ik = P .. 'o:i:' .. id
if ARGV[5] and ARGV[5] ~= '' and redis.call('HGET', ik, 'lease_owner') ~= ARGV[5] then
  return 0
end
local k = redis.call('HGET', ik, 'key')
local q = P .. 'o:q:' .. k
local head = redis.call('LINDEX', q, 0)
redis.call('LREM', q, 1, id)
redis.call('ZREM', KEYS[3], id)
if ARGV[3] == 'done' then
  redis.call('DEL', ik)
else
  redis.call('HSET', ik, 'last_error', ARGV[4])
  redis.call('HDEL', ik, 'lease_owner', 'lease_until')
  redis.call('ZADD', KEYS[4], id, id)
end
if head == id then
  redis.call('ZREM', KEYS[1], k)
  redis.call('ZREM', KEYS[2], k)
  local nxt = redis.call('LINDEX', q, 0)
  if nxt then
    redis.call('ZADD', KEYS[1], redis.call('HGET', P .. 'o:i:' .. nxt, 'next_attempt_at'), k)
  end
end
return 1
"""

# A handled inbound item: OUTBOX_REMOVE's "done", and the next item of its key (if any) leased
# to the owner at once and returned. Returns {removed (0/1), next item's HGETALL or {}}.
# KEYS: due keys, leased keys, pending ids.  ARGV: prefix, id, owner ('' for none), lease_until
INBOUND_DONE = """
local P, id = ARGV[1], ARGV[2]
if not redis.call('ZSCORE', KEYS[3], id) then return {0, {}} end
local ik = P .. 'o:i:' .. id
local k = redis.call('HGET', ik, 'key')
local q = P .. 'o:q:' .. k
local head = redis.call('LINDEX', q, 0)
redis.call('LREM', q, 1, id)
redis.call('ZREM', KEYS[3], id)
redis.call('DEL', ik)
if head ~= id then return {1, {}} end
redis.call('ZREM', KEYS[1], k)
redis.call('ZREM', KEYS[2], k)
local nxt = redis.call('LINDEX', q, 0)
if not nxt then return {1, {}} end
local nk = P .. 'o:i:' .. nxt
if ARGV[3] == '' then
  redis.call('ZADD', KEYS[1], redis.call('HGET', nk, 'next_attempt_at'), k)
  return {1, {}}
end
redis.call('ZADD', KEYS[2], ARGV[4], k)
redis.call('HSET', nk, 'lease_owner', ARGV[3], 'lease_until', ARGV[4])
redis.call('HINCRBY', nk, 'attempts', 1)
return {1, redis.call('HGETALL', nk)}
"""

# KEYS: due keys, leased keys, pending ids.
# ARGV: prefix, id, next_attempt_at, error, fence owner ('' for none)
OUTBOX_RETRY = """
local P, id = ARGV[1], ARGV[2]
if not redis.call('ZSCORE', KEYS[3], id) then return 0 end
local ik = P .. 'o:i:' .. id
if ARGV[5] and ARGV[5] ~= '' and redis.call('HGET', ik, 'lease_owner') ~= ARGV[5] then
  return 0
end
local k = redis.call('HGET', ik, 'key')
redis.call('HSET', ik, 'next_attempt_at', ARGV[3], 'last_error', ARGV[4])
redis.call('HDEL', ik, 'lease_owner', 'lease_until')
if redis.call('LINDEX', P .. 'o:q:' .. k, 0) == id then
  redis.call('ZREM', KEYS[2], k)
  redis.call('ZADD', KEYS[1], ARGV[3], k)
end
return 1
"""

# A held lease extended: only while `owner` still holds it.
# KEYS: leased keys, pending ids.  ARGV: prefix, id, owner, lease_until
OUTBOX_RENEW = """
local P, id = ARGV[1], ARGV[2]
if not redis.call('ZSCORE', KEYS[2], id) then return 0 end
local ik = P .. 'o:i:' .. id
if redis.call('HGET', ik, 'lease_owner') ~= ARGV[3] then return 0 end
local k = redis.call('HGET', ik, 'key')
if redis.call('LINDEX', P .. 'o:q:' .. k, 0) ~= id then return 0 end
redis.call('HSET', ik, 'lease_until', ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[4], k)
return 1
"""

# KEYS: seq counter, outputs zset, operation key (as OUTBOX_PUT's).
# ARGV: body (JSON), outputs kept, channel, session key, operation TTL
# Members are "<seq>|<json>": unique, and the JSON needs no re-encoding inside Lua.
APPEND_OUTPUT = """
local done = redis.call('GET', KEYS[3])
if done then return tonumber(done) end
local seq = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], seq, seq .. '|' .. ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', seq - tonumber(ARGV[2]))
redis.call('PUBLISH', ARGV[3], ARGV[4])
redis.call('SET', KEYS[3], seq, 'EX', ARGV[5])
return seq
"""

# A dedupe mark; a resend of the same call (see OUTBOX_PUT) finds its own token: first time.
# KEYS: dedupe key.  ARGV: call token, ttl in ms.  Returns 1 when the key was already set.
SEEN = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
return 1
"""

# KEYS: lock.  ARGV: owner, ttl in ms
ACQUIRE_LOCK = """
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# KEYS: lock.  ARGV: owner
RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: upload key, the session's upload index (a sorted set of "size|id" by expiry, in ms).
# ARGV: value, ttl in ms, size, most uploads (-1: any), most bytes (-1: any), id.
# Returns 1 when stored, 0 (nothing stored) when the session's unexpired uploads together with
# this one would pass a bound. Redis' own clock, so expiry agrees with the key's TTL.
PUT_UPLOAD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local size, max_count, max_bytes = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local count, total = 0, 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  count = count + 1
  total = total + tonumber(string.match(m, '^(%d+)|'))
end
if (max_count >= 0 and count + 1 > max_count) or (max_bytes >= 0 and total + size > max_bytes) then
  return 0
end
local expires = now + tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], expires, ARGV[3] .. '|' .. ARGV[6])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], math.ceil(tonumber(last[2])))
return 1
"""

# KEYS: the session's upload index.  Returns {count, total bytes} of its unexpired uploads.
UPLOAD_USAGE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local count, total = 0, 0
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
  count = count + 1
  total = total + tonumber(string.match(m, '^(%d+)|'))
end
return {count, total}
"""
