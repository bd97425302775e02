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
 * with the namespace's state, whether the writes were applied, and a snapshot of the namespace when
 * the caller's cache is not current.
 *
 * KEYS: meta (hash: e epoch, v version, sv shape version, s creation order, t use ticks), jar (hash:
 *       field → cookie), use (hash: field → "tick:lastAccess"), exp (sorted set: field → expiry, ms).
 * ARGV: known state ('' no namespace, '?' none), the caller's clock (ms), an epoch for a new
 *       namespace, the caller's creation-order counter, the expiry grace (ms), the known shape, the
 *       write condition ('v' version, 's' shape), then the operations:
 *       P field record lastAccess expires secure | D field | T field lastAccess | X field | C.
 *
 * The state is "epoch:version:shape". The version moves with any change; the shape only when a
 * cookie key appears or goes, or a cookie's Secure flag changes: what a Set-Cookie decision that
 * deletes nothing depends on (the key it replaces or adds, the Secure cookies of its name). Such a
 * write ('s') applies when the shape is the one it was decided against, even if values changed
 * meanwhile (it commutes with them); any other write ('v') needs the exact version. T, X and C
 * apply whatever the state. On a write, cookies dead for longer than the grace by Redis's own
 * clock are dropped (so dead cookies never pile up, whatever the callers' clocks say).
 */
export const NAMESPACE = script(`
local meta, jar, use, exp = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local function state()
  local m = redis.call('HMGET', meta, 'e', 'v', 'sv')
  if not m[1] then return '', '' end
  local sv = m[3] or '0'
  return m[1] .. ':' .. m[2] .. ':' .. sv, m[1] .. ':' .. sv
end
local function drop(f)
  redis.call('HDEL', jar, f)
  redis.call('HDEL', use, f)
  return redis.call('ZREM', exp, f)
end
local before, shape = state()
local current = before == ARGV[1]
local writable = current or (ARGV[7] == 's' and shape ~= '' and shape == ARGV[6])
local now = tonumber(ARGV[2])
local changed = false
local reshaped = false
local writes = false
local i = 8
local n = #ARGV
while i <= n do
  local op = ARGV[i]
  if op == 'T' then
    local f = ARGV[i + 1]
    if redis.call('HEXISTS', jar, f) == 1 then
      redis.call('HSET', use, f, redis.call('HINCRBY', meta, 't', 1) .. ':' .. ARGV[i + 2])
    end
    i = i + 3
  elseif op == 'X' then
    local f = ARGV[i + 1]
    local e = redis.call('ZSCORE', exp, f)
    if e and tonumber(e) <= now then
      drop(f)
      changed = true
      reshaped = true
    end
    i = i + 2
  elseif op == 'P' then
    if writable then
      local f = ARGV[i + 1]
      local old = redis.call('HGET', jar, f)
      if not old or cjson.decode(old).s ~= tonumber(ARGV[i + 5]) then reshaped = true end
      redis.call('HSET', jar, f, ARGV[i + 2])
      redis.call('HSET', use, f, redis.call('HINCRBY', meta, 't', 1) .. ':' .. ARGV[i + 3])
      if ARGV[i + 4] == '' then redis.call('ZREM', exp, f) else redis.call('ZADD', exp, ARGV[i + 4], f) end
      writes = true
    end
    i = i + 6
  elseif op == 'D' then
    if writable then
      drop(ARGV[i + 1])
      writes = true
      reshaped = true
    end
    i = i + 2
  elseif op == 'C' then
    redis.call('DEL', jar, use, exp)
    changed = true
    reshaped = true
    i = i + 1
  else
    return redis.error_reply('ERR hopwise: unknown operation ' .. tostring(op))
  end
end
if writes or changed then
  if not redis.call('HGET', meta, 'e') then redis.call('HSET', meta, 'e', ARGV[3], 'v', 0, 'sv', 0) end
  redis.call('HINCRBY', meta, 'v', 1)
  if reshaped then redis.call('HINCRBY', meta, 'sv', 1) end
end
if writes then
  local s = tonumber(redis.call('HGET', meta, 's') or '0')
  if tonumber(ARGV[4]) > s then redis.call('HSET', meta, 's', ARGV[4]) end
  local t = redis.call('TIME')
  local cutoff = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[5])
  local dead = redis.call('ZRANGEBYSCORE', exp, '-inf', string.format('%d', cutoff), 'LIMIT', 0, 1000)
  for _, f in ipairs(dead) do drop(f) end
  if #dead > 0 then redis.call('HINCRBY', meta, 'sv', 1) end
end
local after = state()
local applied = writable and 1 or 0
if current then return { after, applied } end
return { after, applied, redis.call('HGET', meta, 's') or '0', redis.call('HGETALL', jar), redis.call('HGETALL', use) }
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
