import { CLOCK, WAKE, defineScript, flag } from './lua.js'

/**
 * Owner-checked release. Replies 1 when `owner` held the lock and no longer does.
 *
 * Race it closes: the stale release. A's lock expires, B takes it, then A's release arrives; a
 * get-then-delete from the client could delete B's lock between the two steps. Here the owner
 * check and the delete are one atomic step, so A's release finds B's token and changes nothing.
 * A shared hold whose ttl already ran out is removed but reported as not released.
 *
 * When the lock is free afterwards and someone waits for it (a manager refused recently, or a
 * store subscribed to its channel: live members of `alive`), the release is published so waiters
 * try again at once instead of at their next poll. Uncontended releases publish nothing.
 */
export const RELEASE = defineScript({
  name: 'release',
  keys: ['exclusive', 'shared', 'alive'],
  args: ['owner', 'channel'],
  body: `
${CLOCK}
${WAKE}
local now
if redis.call('GET', exclusive) == owner then
  redis.call('DEL', exclusive)
  -- Nobody waits or listens (the uncontended case): nothing to publish, no clock needed.
  if redis.call('EXISTS', alive) == 0 then return 1 end
  now = nowMs()
else
  local score = tonumber(redis.call('ZSCORE', shared, owner))
  if not score then return 0 end
  now = nowMs()
  redis.call('ZREM', shared, owner)
  if score <= now then return 0 end
  redis.call('ZREMRANGEBYSCORE', shared, '-inf', now)
  if redis.call('ZCARD', shared) > 0 then return 1 end
end
wakeIfAwaited(alive, now, channel, '')
return 1
`,
  reply: flag,
})
