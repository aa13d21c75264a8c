import { createHash } from 'node:crypto'

/**
 * The Lua scripts behind every `RedisStore` operation. Each operation is exactly one script, so it
 * is atomic in Redis and costs one round trip. Scripts take keys only through `KEYS` and values
 * only through `ARGV`: no Lua is ever assembled from strings, so no key or owner can inject code.
 *
 * Time is Redis's own (`TIME`, `PX`, `PEXPIRE`), never the client's: app servers with skewed
 * clocks still agree on who holds a lock. Redis 7 replicates scripts by their effects, so reading
 * `TIME` before writing is allowed (Redis 5 and 6 do the same by default).
 *
 * Key roles (see `keys.ts`): `x` exclusive holder, `s` shared holders (score = expiry in ms),
 * `f` fencing counter, `q` waiting managers in turn (score = first refusal), `l` managers that asked
 * recently and stores subscribed to the lock's channel (score = when to forget them).
 */
export interface LuaScript {
  readonly name: string
  readonly source: string
  /** SHA-1 of `source`, for `EVALSHA`. */
  readonly sha: string
  readonly keys: number
}

function lua(name: string, keys: number, source: string): LuaScript {
  return { name, keys, source, sha: createHash('sha1').update(source).digest('hex') }
}

/**
 * KEYS: x, s, f, q, l. ARGV: owner, mode (`x` | `s`), ttl ms, clientId, waiting (`1` | `0`),
 * liveness ms, fence ttl ms, handoff grace ms.
 * Returns `{1, fencingToken}` or `{0, retryInMs}` (`-1`: unknown).
 *
 * Races it closes:
 * - Check-then-set: two clients both seeing the lock free and both taking it.
 * - A shared holder whose ttl ran out still counting as a holder: expired members are purged by
 *   Redis's clock before the decision.
 * - Starvation across managers: a manager that releases asks again at once for its next local
 *   waiter, needing no wake-up, so it would win every round against managers woken by the release.
 *   Refused managers that keep waiting queue in `q`; a free lock goes to the longest-waiting live
 *   one (or anyone when none). A queued manager is forgotten when it stops asking (its `l` score
 *   passes), and a head that does not claim a lock nobody holds within the grace loses its turn,
 *   so an abandoned wait cannot hold a free lock hostage. (While shared holders remain, a head
 *   waiting to write keeps its turn for as long as it keeps asking: new readers queue behind it.)
 *
 * Fencing: the token is `max(counter + 1, TIME in µs)`. The counter makes tokens strictly increasing
 * even if Redis's clock steps back; the clock makes them increasing after the counter is gone. The
 * counter expires (ARGV[7], refreshed on every grant) so that per-row locks on millions of ids do not
 * grow Redis forever. Microseconds since 1970 are about 1.8e15, below 2^53 until the year 2255, so a
 * token is an exact JavaScript number. `string.format('%.0f')` stores it: Lua's `tostring` would
 * round it to 14 digits.
 */
export const ACQUIRE = lua(
  'acquire',
  5,
  `
local x, s, f, q, l = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local owner, shared, ttl, client = ARGV[1], ARGV[2] == 's', tonumber(ARGV[3]), ARGV[4]
local waiting, liveness, fenceTtl, grace = ARGV[5] == '1', tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])

-- Fast path, the uncontended exclusive grant: no holder, no readers, nobody queued or listening.
-- Exactly what the general path below decides in that state, in 5 calls instead of 8 (each
-- redis.call costs about a microsecond of Redis's single thread). Counter before hold, as below.
if not shared and redis.call('EXISTS', x, s, q, l) == 0 then
  local time = redis.call('TIME')
  local token = math.max((tonumber(redis.call('GET', f)) or 0) + 1, tonumber(time[1]) * 1000000 + tonumber(time[2]))
  redis.call('SET', f, string.format('%.0f', token), 'PX', fenceTtl)
  redis.call('SET', x, owner, 'PX', ttl)
  return {1, token}
end

local time = redis.call('TIME')
local nowUs = tonumber(time[1]) * 1000000 + tonumber(time[2])
local now = math.floor(nowUs / 1000)

local blocked, retry, readers = false, -1, false
local xTtl = redis.call('PTTL', x)
if xTtl ~= -2 then
  blocked, retry = true, xTtl
elseif redis.call('EXISTS', s) == 1 then
  redis.call('ZREMRANGEBYSCORE', s, '-inf', now)
  local last = redis.call('ZRANGE', s, -1, -1, 'WITHSCORES')
  if last[2] then
    readers = true
    if not shared then blocked, retry = true, tonumber(last[2]) - now end
  end
end

local queued = redis.call('EXISTS', q) == 1
if queued and not blocked then
  while true do
    local head = redis.call('ZRANGE', q, 0, 0)[1]
    if not head or head == client then break end
    local deadline = tonumber(redis.call('ZSCORE', l, head))
    if deadline and deadline > now then
      if deadline > now + grace and not readers then
        deadline = now + grace
        redis.call('ZADD', l, deadline, head)
      end
      blocked, retry = true, deadline - now
      break
    end
    redis.call('ZREM', q, head)
  end
end

if blocked then
  if waiting then redis.call('ZADD', q, 'NX', nowUs, client) end
  redis.call('ZADD', l, now + liveness, client)
  redis.call('ZREMRANGEBYSCORE', l, '-inf', now)
  local keep = tonumber(redis.call('ZRANGE', l, -1, -1, 'WITHSCORES')[2]) - now
  redis.call('PEXPIRE', l, keep)
  redis.call('PEXPIRE', q, keep)
  return {0, retry}
end

-- The fencing counter is written before the hold: Redis does not undo a script's earlier writes
-- when a later command fails, so a failure here must not leave a lock nobody was told about.
local token = math.max((tonumber(redis.call('GET', f)) or 0) + 1, nowUs)
redis.call('SET', f, string.format('%.0f', token), 'PX', fenceTtl)
if queued then redis.call('ZREM', q, client) end
redis.call('ZREM', l, client)
if shared then
  redis.call('ZADD', s, now + ttl, owner)
  redis.call('PEXPIRE', s, tonumber(redis.call('ZRANGE', s, -1, -1, 'WITHSCORES')[2]) - now)
else
  redis.call('SET', x, owner, 'PX', ttl)
end
return {1, token}
`,
)

/**
 * KEYS: x, s, l. ARGV: owner, channel. Returns 1 when `owner` held the lock and no longer does.
 *
 * Race it closes: the stale release. A's lock expires, B takes it, then A's release arrives; a
 * get-then-delete from the client could delete B's lock between the two steps. Here the owner
 * check and the delete are one atomic step, so A's release finds B's token and changes nothing.
 * A shared hold whose ttl already ran out is removed but reported as not released.
 *
 * When the lock is free afterwards and someone waits for it (a manager refused recently, or a
 * store subscribed to its channel: live members of `l`), the release is published so waiters try
 * again at once instead of at their next poll. Uncontended releases publish nothing, which matters
 * on a Cluster, where every PUBLISH is broadcast to every node over the cluster bus.
 */
export const RELEASE = lua(
  'release',
  3,
  `
local x, s, l = KEYS[1], KEYS[2], KEYS[3]
local owner, channel = ARGV[1], ARGV[2]
local function clock()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

local now
if redis.call('GET', x) == owner then
  redis.call('DEL', x)
  -- Nobody waits or listens (the uncontended case): nothing to publish, no clock needed.
  if redis.call('EXISTS', l) == 0 then return 1 end
  now = clock()
else
  local score = tonumber(redis.call('ZSCORE', s, owner))
  if not score then return 0 end
  now = clock()
  redis.call('ZREM', s, owner)
  if score <= now then return 0 end
  redis.call('ZREMRANGEBYSCORE', s, '-inf', now)
  if redis.call('ZCARD', s) > 0 then return 1 end
end

redis.call('ZREMRANGEBYSCORE', l, '-inf', now)
if redis.call('ZCARD', l) > 0 then redis.call('PUBLISH', channel, '') end
return 1
`,
)

/**
 * KEYS: x, s. ARGV: owner, ttl ms. Returns 1 when `owner` still held the lock and now holds it for
 * `ttl` from now.
 *
 * Race it closes: extending a lock that expired and was taken by someone else. The owner check and
 * the new expiry are one step, so a late renewal never lengthens another holder's lock.
 */
export const EXTEND = lua(
  'extend',
  2,
  `
local x, s = KEYS[1], KEYS[2]
local owner, ttl = ARGV[1], tonumber(ARGV[2])
if redis.call('GET', x) == owner then
  redis.call('PEXPIRE', x, ttl)
  return 1
end
local score = tonumber(redis.call('ZSCORE', s, owner))
if not score then return 0 end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if score <= now then
  redis.call('ZREM', s, owner)
  return 0
end
redis.call('ZADD', s, now + ttl, owner)
redis.call('PEXPIRE', s, tonumber(redis.call('ZRANGE', s, -1, -1, 'WITHSCORES')[2]) - now)
return 1
`,
)

/**
 * KEYS: x, s, f, q, l. ARGV: owner, ttl ms, clientId, fence ttl ms, channel. Returns the fencing token.
 *
 * Takes the lock exclusively whoever holds it: every shared and exclusive holder is dropped in the
 * same step, so their extend and release find nothing. Waiters are woken so they learn the new
 * holder's ttl rather than sleeping on the old one's.
 */
export const STEAL = lua(
  'steal',
  5,
  `
local x, s, f, q, l = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local owner, ttl, client, fenceTtl, channel = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5]
local time = redis.call('TIME')
local nowUs = tonumber(time[1]) * 1000000 + tonumber(time[2])
local now = math.floor(nowUs / 1000)

-- Counter first, as in ACQUIRE: a failure must not leave the holders evicted or a lock unreported.
local token = math.max((tonumber(redis.call('GET', f)) or 0) + 1, nowUs)
redis.call('SET', f, string.format('%.0f', token), 'PX', fenceTtl)
redis.call('DEL', s)
redis.call('SET', x, owner, 'PX', ttl)
redis.call('ZREM', q, client)
redis.call('ZREM', l, client)

redis.call('ZREMRANGEBYSCORE', l, '-inf', now)
if redis.call('ZCARD', l) > 0 then redis.call('PUBLISH', channel, '') end
return token
`,
)

/**
 * KEYS: x, s, l. ARGV: channel. Removes every hold; returns 1 when a live one existed.
 * Expired shared members are purged first so a lock nobody holds is reported as not held.
 */
export const FORCE_RELEASE = lua(
  'forceRelease',
  3,
  `
local x, s, l = KEYS[1], KEYS[2], KEYS[3]
local channel = ARGV[1]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local held = redis.call('DEL', x)
redis.call('ZREMRANGEBYSCORE', s, '-inf', now)
held = held + redis.call('DEL', s)
if held == 0 then return 0 end

redis.call('ZREMRANGEBYSCORE', l, '-inf', now)
if redis.call('ZCARD', l) > 0 then redis.call('PUBLISH', channel, '') end
return 1
`,
)

/**
 * KEYS: l. ARGV: listener id, ms. With ms > 0, marks the lock as listened to for `ms` (a store
 * subscribed to its channel); with 0, removes the mark.
 *
 * Releases publish only when `l` has a live member, so a subscriber that never asked for the lock
 * (and so is not there as a refused manager) must say it listens, or its wake-ups would be skipped.
 * The mark expires on its own if the process dies while subscribed; a live store renews it.
 */
export const LISTEN = lua(
  'listen',
  1,
  `
local l = KEYS[1]
local member, ms = ARGV[1], tonumber(ARGV[2])
if ms <= 0 then
  redis.call('ZREM', l, member)
  return 0
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZADD', l, now + ms, member)
redis.call('ZREMRANGEBYSCORE', l, '-inf', now)
redis.call('PEXPIRE', l, tonumber(redis.call('ZRANGE', l, -1, -1, 'WITHSCORES')[2]) - now)
return 1
`,
)

/**
 * KEYS: x, s. Returns a flat list `owner, mode, remaining ms, …` of the live holders (`-1`: the
 * exclusive key has no expiry, which only a foreign writer can cause). Read-only.
 */
export const HOLDERS = lua(
  'holders',
  2,
  `
local x, s = KEYS[1], KEYS[2]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local out = {}
local owner = redis.call('GET', x)
if owner then
  table.insert(out, owner)
  table.insert(out, 'exclusive')
  table.insert(out, redis.call('PTTL', x))
end
local members = redis.call('ZRANGEBYSCORE', s, now + 1, '+inf', 'WITHSCORES')
for i = 1, #members, 2 do
  table.insert(out, members[i])
  table.insert(out, 'shared')
  table.insert(out, tonumber(members[i + 1]) - now)
end
return out
`,
)
