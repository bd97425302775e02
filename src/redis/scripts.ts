/**
 * The Lua scripts hopwise runs in Redis. A script runs atomically (no other command runs while it
 * does), so a whole change to a namespace is one script: nothing half-written is ever seen, and a
 * write made against an old version of the namespace is refused instead of overwriting newer data.
 */
import { createHash } from 'node:crypto';

export interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * One round trip of a cookie namespace: apply the operations of the cache (cache.ts) and answer
 * with the namespace's state, whether the writes were applied and, when the caller's cache is not
 * current, what it needs to become current: only the cookies that changed since it last looked
 * (a change feed), or the whole namespace when it cannot tell.
 *
 * KEYS: meta (hash: e epoch, v version, sv shape version, t change counter, f feed floor,
 *       s creation order), jar (hash: field → cookie record, and field + '@' → its last access, ms),
 *       exp (sorted set: field → expiry, ms), chg (sorted set: live field → the change counter of
 *       its last change or use), del (sorted set: removed field → the change counter of its removal).
 * ARGV: [1] known state ('?' none), [2] the caller's clock (ms), [3] an epoch for a new namespace,
 *       [4] the caller's creation-order counter, [5] the expiry grace (ms), [6] the known shape,
 *       [7] the write condition ('v' version, 's' shape), [8] the change counter the caller's cache
 *       is current to (-1 none), [9] the epoch that counter belongs to, then the operations:
 *       P field record lastAccess expires | D field | T field lastAccess | X field | C.
 *       A record starts with '1' for a Secure cookie, '0' otherwise.
 *
 * The state is "epoch:version:shape". The version moves with any change; the shape only when a
 * cookie key appears or goes, or a cookie's Secure flag changes: what a Set-Cookie decision that
 * deletes nothing depends on (the key it replaces or adds, the Secure cookies of its name). Such a
 * write ('s') applies when the shape is the one it was decided against, even if values changed
 * meanwhile (it commutes with them); any other write ('v') needs the exact version. T, X and C
 * apply whatever the state. On a write, cookies dead for longer than the grace by Redis's own
 * clock are dropped (so dead cookies never pile up, whatever the callers' clocks say).
 *
 * The change feed: every change and every use takes the next value of the counter `t`, kept per
 * live cookie in `chg` and per removed one in `del` (a tombstone). A caller current to counter N
 * of this epoch gets the cookies whose counter is past N, in that order, and the keys removed
 * since: a cost in what changed, not in the size of the namespace. Tombstones are trimmed (the
 * oldest half past 1,000, raising the floor `f`); a caller older than the floor, of another epoch,
 * or ahead of the namespace (it went back: a failover) gets the whole namespace instead. Keys the
 * caller's cache changed but Redis did not take (a refused write, an expired cookie another process
 * stored again, a cookie dropped by the sweep) are always sent back, whatever their counter.
 *
 * Reply: {state, applied} when the caller was current and nothing it holds differs; otherwise
 * {state, applied, s, t, 'd', live, gone} (live: field, counter, record, last access, ...; gone:
 * fields) or {state, applied, s, t, 'f', jar, chg} (HGETALL jar, and ZRANGE chg WITHSCORES: every
 * live field in counter order).
 */
export const NAMESPACE = script(`
local meta, jar, exp, chg, del = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local m = redis.call('HMGET', meta, 'e', 'v', 'sv', 't', 'f', 's')
local epoch = m[1]
local v, sv, t, floor, s = tonumber(m[2] or '0'), tonumber(m[3] or '0'), tonumber(m[4] or '0'), tonumber(m[5] or '0'), tonumber(m[6] or '0')
local t0 = t
local function int(x) return string.format('%d', x) end
local function state()
  if not epoch then return '' end
  return epoch .. ':' .. int(v) .. ':' .. int(sv)
end
local before = state()
local shape = epoch and (epoch .. ':' .. int(sv)) or ''
local current = before == ARGV[1]
local writable = current or (ARGV[7] == 's' and shape ~= '' and shape == ARGV[6])
local now = tonumber(ARGV[2])
local changed, reshaped, writes, dropped = false, false, false, false
local forced = {}
local function drop(f)
  redis.call('HDEL', jar, f, f .. '@')
  redis.call('ZREM', exp, f)
  redis.call('ZREM', chg, f)
  t = t + 1
  redis.call('ZADD', del, t, f)
  dropped = true
end
-- In chunks: a command's arguments are unpacked onto Lua's stack, which is bounded.
local function chunked(cmd, key, list, step)
  local out = {}
  for j = 1, #list, step do
    local part = redis.call(cmd, key, unpack(list, j, math.min(j + step - 1, #list)))
    if type(part) == 'table' then for _, x in ipairs(part) do out[#out + 1] = x end end
  end
  return out
end
local i = 10
local n = #ARGV
-- The uses come first (cache.ts), all in three commands: a use never brings a removed cookie back.
local used = {}
while i <= n and ARGV[i] == 'T' do
  used[#used + 1] = ARGV[i + 1]
  i = i + 3
end
if #used > 0 then
  local stored = chunked('HMGET', jar, used, 1000)
  local ticks, accesses = {}, {}
  for j, f in ipairs(used) do
    if stored[j] then
      t = t + 1
      ticks[#ticks + 1] = t
      ticks[#ticks + 1] = f
      accesses[#accesses + 1] = f .. '@'
      accesses[#accesses + 1] = ARGV[9 + j * 3]
    end
  end
  if #ticks > 0 then
    chunked('ZADD', chg, ticks, 1000)
    chunked('HSET', jar, accesses, 1000)
  end
end
while i <= n do
  local op = ARGV[i]
  if op == 'T' then
    return redis.error_reply('ERR hopwise: a use after a change')
  elseif op == 'X' then
    local f = ARGV[i + 1]
    local e = redis.call('ZSCORE', exp, f)
    if e and tonumber(e) <= now then
      drop(f)
      changed = true
      reshaped = true
    else
      forced[#forced + 1] = f
    end
    i = i + 2
  elseif op == 'P' then
    local f = ARGV[i + 1]
    if writable then
      local rec = ARGV[i + 2]
      local old = redis.call('HGET', jar, f)
      if not old then
        reshaped = true
        redis.call('ZREM', del, f)
      elseif string.byte(old, 1) ~= string.byte(rec, 1) then
        reshaped = true
      end
      redis.call('HSET', jar, f, rec, f .. '@', ARGV[i + 3])
      t = t + 1
      redis.call('ZADD', chg, t, f)
      if ARGV[i + 4] ~= '' then redis.call('ZADD', exp, ARGV[i + 4], f) elseif old then redis.call('ZREM', exp, f) end
      writes = true
    else
      forced[#forced + 1] = f
    end
    i = i + 5
  elseif op == 'D' then
    local f = ARGV[i + 1]
    if writable then
      drop(f)
      writes = true
      reshaped = true
    else
      forced[#forced + 1] = f
    end
    i = i + 2
  elseif op == 'C' then
    redis.call('DEL', jar, exp, chg, del)
    t = t + 1
    floor = t
    changed = true
    reshaped = true
    i = i + 1
  else
    return redis.error_reply('ERR hopwise: unknown operation ' .. tostring(op))
  end
end
if writes or changed then
  if not epoch then
    epoch = ARGV[3]
    v, sv = 0, 0
  end
  v = v + 1
  if reshaped then sv = sv + 1 end
end
if writes then
  if tonumber(ARGV[4]) > s then s = tonumber(ARGV[4]) end
  local clock = redis.call('TIME')
  local cutoff = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) - tonumber(ARGV[5])
  local dead = redis.call('ZRANGEBYSCORE', exp, '-inf', int(cutoff), 'LIMIT', 0, 1000)
  for _, f in ipairs(dead) do
    drop(f)
    forced[#forced + 1] = f
  end
  if #dead > 0 then sv = sv + 1 end
end
if dropped and redis.call('ZCARD', del) > 1000 then
  local oldest = redis.call('ZRANGE', del, 0, 499, 'WITHSCORES')
  floor = math.max(floor, tonumber(oldest[#oldest]))
  redis.call('ZREMRANGEBYRANK', del, 0, 499)
end
if epoch and (t ~= t0 or writes or changed) then
  redis.call('HSET', meta, 'e', epoch, 'v', int(v), 'sv', int(sv), 't', int(t), 'f', int(floor), 's', int(s))
end
local after = state()
local applied = writable and 1 or 0
if current and #forced == 0 then return { after, applied } end
local seen = tonumber(ARGV[8])
-- A caller that saw no namespace (counter 0) is current to the start of any new one.
local known = ARGV[9] == epoch or (ARGV[9] == '' and seen == 0)
if seen < 0 or not known or seen < floor or seen > t0 then
  return { after, applied, int(s), int(t), 'f', redis.call('HGETALL', jar), redis.call('ZRANGE', chg, 0, -1, 'WITHSCORES') }
end
local gone, listed = redis.call('ZRANGEBYSCORE', del, '(' .. int(seen), '+inf'), {}
local moved = redis.call('ZRANGEBYSCORE', chg, '(' .. int(seen), '+inf', 'WITHSCORES')
for j = 1, #moved, 2 do listed[moved[j]] = true end
for _, f in ipairs(forced) do
  if not listed[f] then
    listed[f] = true
    local tick = redis.call('ZSCORE', chg, f)
    if tick then
      moved[#moved + 1] = f
      moved[#moved + 1] = tick
    else
      gone[#gone + 1] = f
    end
  end
end
local wanted = {}
for j = 1, #moved, 2 do
  wanted[#wanted + 1] = moved[j]
  wanted[#wanted + 1] = moved[j] .. '@'
end
local values = chunked('HMGET', jar, wanted, 1000)
local live = {}
for j = 1, #moved, 2 do
  live[#live + 1] = moved[j]
  live[#live + 1] = moved[j + 1]
  live[#live + 1] = values[j] or ''
  live[#live + 1] = values[j + 1] or ''
end
return { after, applied, int(s), int(t), 'd', live, gone }
`);

/**
 * Store a fetched token, only if the caller still holds the refresh lock (its fencing value): a
 * holder whose lock expired while it fetched must not overwrite the token of the one that took over.
 * KEYS: token, lock, generation counter. ARGV: fence, token, ttl ms, expiry (ms since the epoch).
 * The token is kept as "generation:expiry:token". Returns the new generation, or 0.
 */
export const TOKEN_STORE = script(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local g = redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[1], g .. ':' .. ARGV[4] .. ':' .. ARGV[2], 'PX', ARGV[3])
redis.call('DEL', KEYS[2])
return g
`);

/** Release the refresh lock if the caller still holds it (a fetch that failed). KEYS: lock. ARGV: fence. */
export const TOKEN_UNLOCK = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);
