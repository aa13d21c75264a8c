import type { Waiter } from '../../../store.js'
import { CLOCK, defineScript } from './lua.js'

/**
 * The managers waiting for the lock (see `waiters` in `acquire.ts`): an entry counts while its own
 * score and its manager's `alive` score are both ahead, so a manager a release handed the lock to
 * (which leaves `alive` then) or one that stopped asking is not listed. Read-only. Replies the
 * members (`x:clientId` / `s:clientId`), decoded into `Waiter`s.
 */
export const WAITERS = defineScript({
  name: 'waiters',
  keys: ['waiters', 'alive'],
  args: [],
  body: `
${CLOCK}
local now = nowMs()
local out = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', waiters, now + 1, '+inf')) do
  local deadline = tonumber(redis.call('ZSCORE', alive, string.sub(member, 3)))
  if deadline and deadline > now then table.insert(out, member) end
end
return out
`,
  reply: (raw): Waiter[] =>
    (raw as unknown[]).map((member) => {
      const text = String(member)
      return { clientId: text.slice(2), mode: text.startsWith('s:') ? 'shared' : 'exclusive' }
    }),
})
