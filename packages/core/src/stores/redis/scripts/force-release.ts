import { CLOCK, WAKE, defineScript, flag } from './lua.js'

/**
 * Removes every hold; replies 1 when a live one existed. Expired shared members are purged first so
 * a lock nobody holds is reported as not held.
 */
export const FORCE_RELEASE = defineScript({
  name: 'forceRelease',
  keys: ['exclusive', 'shared', 'alive'],
  args: ['channel'],
  body: `
${CLOCK}
${WAKE}
local now = nowMs()
local held = redis.call('DEL', exclusive)
redis.call('ZREMRANGEBYSCORE', shared, '-inf', now)
held = held + redis.call('DEL', shared)
if held == 0 then return 0 end
wakeIfAwaited(alive, now, channel, '')
return 1
`,
  reply: flag,
})
