import { CLOCK, EXPIRE_TO_LAST, defineScript, flag } from './lua.js'

/**
 * Owner-checked renewal. Replies 1 when `owner` still held the lock and now holds it for `ttl` ms
 * from now.
 *
 * Race it closes: extending a lock that expired and was taken by someone else. The owner check and
 * the new expiry are one step, so a late renewal never lengthens another holder's lock.
 *
 * With `client` (not empty), this renewal confirms a lock a release handed to that manager: its
 * `!owner` mark in `parked` is cleared, so a later attempt of the same manager cannot take over
 * the lock it holds now (see `acquire.ts`).
 */
export const EXTEND = defineScript({
  name: 'extend',
  keys: ['exclusive', 'shared', 'parked'],
  args: ['owner', 'ttl', 'client'],
  body: `
${CLOCK}
${EXPIRE_TO_LAST}
if redis.call('GET', exclusive) == owner then
  redis.call('PEXPIRE', exclusive, ttl)
  if client ~= '' and redis.call('HGET', parked, client) == '!' .. owner then redis.call('HDEL', parked, client) end
  return 1
end
local score = tonumber(redis.call('ZSCORE', shared, owner))
if not score then return 0 end
local now = nowMs()
if score <= now then
  redis.call('ZREM', shared, owner)
  return 0
end
redis.call('ZADD', shared, now + tonumber(ttl), owner)
expireToLast(shared, now)
return 1
`,
  reply: flag,
})
