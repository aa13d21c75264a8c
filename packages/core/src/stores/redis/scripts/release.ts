import { CLOCK, FENCE, WAKE, defineScript } from './lua.js'

/**
 * Owner-checked release. Replies 1 when `owner` held the lock and no longer does.
 *
 * Race it closes: the stale release. A's lock expires, B takes it, then A's release arrives; a
 * get-then-delete from the client could delete B's lock between the two steps. Here the owner
 * check and the delete are one atomic step, so A's release finds B's token and changes nothing.
 * A shared hold whose ttl already ran out is removed but reported as not released.
 *
 * Handover. When the lock is free afterwards and the head of the queue is a live manager that
 * parked an exclusive request (see `acquire.ts`), the lock is granted to that request here, with
 * a fencing token, and the grant is published (`token:owner`) on the lock's channel: the woken
 * waiter already holds the lock and needs no acquire round trip.
 *
 * The claim's ttl, and why a waiter that died cannot keep the lock: the handed-over lock expires
 * after `grace` at most, and sooner when the head's turn in the queue ends sooner (its `alive`
 * score, which its own last attempt set `liveness`, a few of its polls, ahead). A waiter that died,
 * lost the wake-up or stopped waiting thus blocks the lock no longer than it could before, when a
 * free lock was kept for the head for `grace`; a live one renews it to its own ttl at once. The
 * waiter trusts the claim only until its last refused attempt was sent plus the smaller of
 * `liveness` and `grace`: the claim was set after that attempt ran, and expires no earlier than
 * that attempt's `alive` score (at least `liveness` after it ran, or `grace` after a later acquirer
 * shortened it) nor than `grace` after the release, so the bound holds by the waiter's own clock.
 *
 * Otherwise, when someone waits or listens (live members of `alive`), the release is published
 * empty, so waiters try again at once instead of at their next poll. Uncontended releases publish
 * nothing.
 */
export const RELEASE = defineScript({
  name: 'release',
  keys: ['exclusive', 'shared', 'fence', 'queue', 'alive', 'parked'],
  args: ['owner', 'channel', 'grace', 'handover'],
  body: `
${CLOCK}
${FENCE}
${WAKE}
local us
if redis.call('GET', exclusive) == owner then
  redis.call('DEL', exclusive)
  -- Nobody waits or listens (the uncontended case): nothing to publish, no clock needed.
  if redis.call('EXISTS', alive) == 0 then return 1 end
  us = nowUs()
else
  local score = tonumber(redis.call('ZSCORE', shared, owner))
  if not score then return 0 end
  us = nowUs()
  local now = math.floor(us / 1000)
  redis.call('ZREM', shared, owner)
  if score <= now then return 0 end
  redis.call('ZREMRANGEBYSCORE', shared, '-inf', now)
  if redis.call('ZCARD', shared) > 0 then return 1 end
end
local now = math.floor(us / 1000)

while handover == '1' and redis.call('EXISTS', queue) == 1 do
  local head = redis.call('ZRANGE', queue, 0, 0)[1]
  local deadline = tonumber(redis.call('ZSCORE', alive, head))
  if deadline and deadline > now then
    local request = redis.call('HGET', parked, head)
    -- A head waiting to share, or one whose lock was handed over already: wake everyone instead.
    if not request or string.byte(request, 1) == 33 then break end
    local split = string.find(request, ':', 1, true)
    local claimant = string.sub(request, split + 1)
    local token = nextToken(fence, us, string.sub(request, 1, split - 1))
    redis.call('SET', exclusive, claimant, 'PX', math.min(deadline - now, tonumber(grace)))
    redis.call('ZREM', queue, head)
    redis.call('ZREM', alive, head)
    redis.call('HSET', parked, head, '!' .. claimant)
    redis.call('PUBLISH', channel, string.format('%.0f', token) .. ':' .. claimant)
    return 1
  end
  redis.call('ZREM', queue, head)
  redis.call('HDEL', parked, head)
end
wakeIfAwaited(alive, now, channel, '')
return 1
`,
  reply: (raw) => Number(raw) === 1,
})
