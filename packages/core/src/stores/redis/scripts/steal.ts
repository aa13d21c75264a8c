import { CLOCK, FENCE, WAKE, defineScript } from './lua.js'

/**
 * Takes the lock exclusively whoever holds it; replies the new fencing token. Every shared and
 * exclusive holder is dropped in the same step, so their extend and release find nothing. Waiters
 * are woken so they learn the new holder's ttl rather than sleeping on the old one's.
 */
export const STEAL = defineScript({
  name: 'steal',
  keys: ['exclusive', 'shared', 'fence', 'queue', 'alive'],
  args: ['owner', 'ttl', 'client', 'fenceTtl', 'channel'],
  body: `
${CLOCK}
${FENCE}
${WAKE}
local us = nowUs()
-- Counter first (see nextToken): a failure must not leave the holders evicted or a lock unreported.
local token = nextToken(fence, us, fenceTtl)
redis.call('DEL', shared)
redis.call('SET', exclusive, owner, 'PX', ttl)
redis.call('ZREM', queue, client)
redis.call('ZREM', alive, client)
wakeIfAwaited(alive, math.floor(us / 1000), channel, '')
return token
`,
  reply: Number,
})
