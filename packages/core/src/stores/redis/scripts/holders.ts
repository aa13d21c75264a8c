import type { Holder } from '../../../store.js'
import { CLOCK, defineScript } from './lua.js'

/**
 * The live holders with their remaining ttl by Redis's clock (`-1`: the exclusive key has no
 * expiry, which only a foreign writer can cause). Read-only. Replies a flat list
 * `owner, mode, remaining ms, …`, decoded into `Holder`s.
 */
export const HOLDERS = defineScript({
  name: 'holders',
  keys: ['exclusive', 'shared'],
  args: [],
  body: `
${CLOCK}
local now = nowMs()
local out = {}
local owner = redis.call('GET', exclusive)
if owner then
  table.insert(out, owner)
  table.insert(out, 'exclusive')
  table.insert(out, redis.call('PTTL', exclusive))
end
local members = redis.call('ZRANGEBYSCORE', shared, now + 1, '+inf', 'WITHSCORES')
for i = 1, #members, 2 do
  table.insert(out, members[i])
  table.insert(out, 'shared')
  table.insert(out, tonumber(members[i + 1]) - now)
end
return out
`,
  reply: (raw): Holder[] => {
    const reply = raw as unknown[]
    const holders: Holder[] = []
    for (let i = 0; i + 2 < reply.length; i += 3) {
      const remaining = Number(reply[i + 2])
      const holder: Holder = { owner: String(reply[i]), mode: reply[i + 1] === 'shared' ? 'shared' : 'exclusive' }
      if (remaining >= 0) holder.expiresInMs = remaining
      holders.push(holder)
    }
    return holders
  },
})
