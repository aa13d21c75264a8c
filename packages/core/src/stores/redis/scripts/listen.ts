import { CLOCK, EXPIRE_TO_LAST, defineScript } from './lua.js'

/**
 * With `ms` > 0, marks the lock as listened to by `member` (a store subscribed to its channel) for
 * `ms`; with 0, removes the mark.
 *
 * Releases publish only when `alive` has a live member, so a subscriber that never asked for the
 * lock (and so is not there as a refused manager) must say it listens, or its wake-ups would be
 * skipped. The mark expires on its own if the process dies while subscribed; a live store renews it.
 */
export const LISTEN = defineScript({
  name: 'listen',
  keys: ['alive'],
  args: ['member', 'ms'],
  body: `
${CLOCK}
${EXPIRE_TO_LAST}
if tonumber(ms) <= 0 then
  redis.call('ZREM', alive, member)
  return 0
end
local now = nowMs()
redis.call('ZADD', alive, now + tonumber(ms), member)
redis.call('ZREMRANGEBYSCORE', alive, '-inf', now)
expireToLast(alive, now)
return 1
`,
  reply: (raw) => raw,
})
