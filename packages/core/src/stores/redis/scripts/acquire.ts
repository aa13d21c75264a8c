import type { AcquireResult } from '../../../store.js'
import { CLOCK, EXPIRE_TO_LAST, FENCE, defineScript } from './lua.js'

/**
 * One attempt to take a lock. Replies `{1, fencingToken}` or `{0, retryInMs}` (`-1`: unknown).
 *
 * Keys (see `keys.ts`): `exclusive` holder, `shared` holders (score = expiry in ms), `fence`
 * counter, `queue` of managers waiting in turn (score = first refusal), `alive`: managers that asked
 * recently and stores subscribed to the lock's channel (score = when to forget them).
 *
 * Races it closes:
 * - Check-then-set: two clients both seeing the lock free and both taking it.
 * - A shared holder whose ttl ran out still counting as a holder: expired members are purged by
 *   Redis's clock before the decision.
 * - A replayed attempt: ioredis sends a command again when the connection dropped before its
 *   reply; a replay that finds its own first run's grant gets it (see below), instead of leaving
 *   that grant to hold the lock until its ttl.
 * - Starvation across managers: a manager that releases asks again at once for its next local
 *   waiter, needing no wake-up, so it would win every round against managers woken by the release.
 *   Refused managers that keep waiting queue in `queue`; a free lock goes to the longest-waiting
 *   live one (or anyone when none). A queued manager is forgotten when it stops asking (its `alive`
 *   score passes), and a head that does not claim a lock nobody holds within the grace loses its
 *   turn, so an abandoned wait cannot hold a free lock hostage. (While shared holders remain, a
 *   head waiting to write keeps its turn for as long as it keeps asking: new readers queue behind.)
 *
 * A refused exclusive waiter parks its request in `parked` (owner and fence ttl), so that RELEASE
 * can hand the lock to the head of the queue in the same step (see `release.ts`). When the wake-up
 * that tells the manager was lost or crossed its next attempt, that attempt finds the lock held
 * under the owner handed to it (`!owner` in `parked`) and takes it over.
 *
 * A refused attempt that is not `once` lists its manager in `waiters` (by mode, forgotten with its
 * `alive` score) for `WAITERS`; its grant removes it. The fast path needs no look at `waiters`: it
 * is written only beside a live `alive` member, so with no `alive` key every entry has lapsed.
 */
export const ACQUIRE = defineScript({
  name: 'acquire',
  keys: ['exclusive', 'shared', 'fence', 'queue', 'alive', 'parked', 'waiters'],
  /**
   * `mode`: `x` | `s`; `ttl`, `liveness`, `fenceTtl`, `grace`: ms; `waiting`: `1` | `0` (this
   * attempt follows a refusal); `client`: the asking manager's id; `once`: `1` | `0` (the request
   * gives up when refused: not a waiter).
   */
  args: ['owner', 'mode', 'ttl', 'client', 'waiting', 'liveness', 'fenceTtl', 'grace', 'once'],
  body: `
${CLOCK}
${FENCE}
${EXPIRE_TO_LAST}
local isShared = mode == 's'

-- Fast path, the uncontended exclusive grant: no holder, no readers, nobody queued or listening.
-- Exactly what the general path below decides in that state, in 5 calls instead of 8 (each
-- redis.call costs about a microsecond of Redis's single thread).
if not isShared and redis.call('EXISTS', exclusive, shared, queue, alive) == 0 then
  local token = nextToken(fence, nowUs(), fenceTtl)
  redis.call('SET', exclusive, owner, 'PX', ttl)
  return {1, token}
end

local us = nowUs()
local now = math.floor(us / 1000)

local blocked, retry, readers, handed = false, -1, false, false
local xTtl = redis.call('PTTL', exclusive)
if xTtl ~= -2 then
  -- Held by this very attempt: it ran before, and its grant was lost with the connection before it
  -- reached the manager, which then sent it again (ioredis resends what was unanswered when it
  -- reconnects). The same grant, with a token nobody has seen yet; refused, it would hold the lock
  -- until its ttl while its own manager waited behind it. (Owners are unique to an attempt.)
  if redis.call('GET', exclusive) == owner then
    local token = nextToken(fence, us, fenceTtl)
    redis.call('PEXPIRE', exclusive, ttl)
    return {1, token}
  end
  blocked, retry = true, xTtl
  if waiting == '1' then
    local mine = redis.call('HGET', parked, client)
    if mine and string.byte(mine, 1) == 33 and redis.call('GET', exclusive) == string.sub(mine, 2) then
      redis.call('DEL', exclusive)
      redis.call('HDEL', parked, client)
      blocked, handed = false, true
    end
  end
elseif redis.call('EXISTS', shared) == 1 then
  redis.call('ZREMRANGEBYSCORE', shared, '-inf', now)
  -- A shared grant of this very attempt, sent again (as above): a waiting writer must not refuse it.
  if isShared and redis.call('ZSCORE', shared, owner) then
    local token = nextToken(fence, us, fenceTtl)
    redis.call('ZADD', shared, now + tonumber(ttl), owner)
    expireToLast(shared, now)
    return {1, token}
  end
  local last = redis.call('ZRANGE', shared, -1, -1, 'WITHSCORES')
  if last[2] then
    readers = true
    if not isShared then blocked, retry = true, tonumber(last[2]) - now end
  end
end

local queued = redis.call('EXISTS', queue) == 1
if queued and not blocked and not handed then
  while true do
    local head = redis.call('ZRANGE', queue, 0, 0)[1]
    if not head or head == client then break end
    local deadline = tonumber(redis.call('ZSCORE', alive, head))
    if deadline and deadline > now then
      if deadline > now + tonumber(grace) and not readers then
        deadline = now + tonumber(grace)
        redis.call('ZADD', alive, deadline, head)
      end
      blocked, retry = true, deadline - now
      break
    end
    redis.call('ZREM', queue, head)
    redis.call('HDEL', parked, head)
  end
end

if blocked then
  if waiting == '1' then
    redis.call('ZADD', queue, 'NX', us, client)
    if isShared then redis.call('HDEL', parked, client) else redis.call('HSET', parked, client, fenceTtl .. ':' .. owner) end
  end
  redis.call('ZADD', alive, now + tonumber(liveness), client)
  redis.call('ZREMRANGEBYSCORE', alive, '-inf', now)
  local keep = expireToLast(alive, now)
  redis.call('PEXPIRE', queue, keep)
  redis.call('PEXPIRE', parked, keep)
  if once ~= '1' then
    redis.call('ZREM', waiters, (isShared and 'x:' or 's:') .. client)
    redis.call('ZADD', waiters, now + tonumber(liveness), mode .. ':' .. client)
    redis.call('ZREMRANGEBYSCORE', waiters, '-inf', now)
    redis.call('PEXPIRE', waiters, keep)
  end
  return {0, retry}
end

local token = nextToken(fence, us, fenceTtl)
if queued then
  redis.call('ZREM', queue, client)
  redis.call('HDEL', parked, client)
end
redis.call('ZREM', alive, client)
redis.call('ZREM', waiters, 'x:' .. client, 's:' .. client)
if isShared then
  redis.call('ZADD', shared, now + tonumber(ttl), owner)
  expireToLast(shared, now)
else
  redis.call('SET', exclusive, owner, 'PX', ttl)
end
return {1, token}
`,
  reply: (raw): AcquireResult => {
    const [granted, value] = raw as [unknown, unknown]
    const n = Number(value)
    if (Number(granted) === 1) return { granted: true, fencingToken: n }
    return n >= 0 ? { granted: false, retryInMs: n } : { granted: false }
  },
})
