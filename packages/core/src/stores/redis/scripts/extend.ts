import type { RedisArgument } from '../client.js'
import type { RedisKey } from '../keys.js'
import { CLOCK, EXPIRE_TO_LAST, defineScript, flag, type LuaScript } from './lua.js'

/**
 * `extendOne(exclusive, shared, parked, owner, ttl, client)`: the owner-checked renewal of one
 * hold, 1 when `owner` still held the lock and now holds it for `ttl` ms from now.
 *
 * Race it closes: extending a lock that expired and was taken by someone else. The owner check and
 * the new expiry are one step, so a late renewal never lengthens another holder's lock.
 *
 * With `client` (not empty), this renewal confirms a lock a release handed to that manager: its
 * `!owner` mark in `parked` is cleared, so a later attempt of the same manager cannot take over
 * the lock it holds now (see `acquire.ts`).
 */
const EXTEND_ONE = `
${CLOCK}
${EXPIRE_TO_LAST}
local function extendOne(exclusive, shared, parked, owner, ttl, client)
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
end`

/** One renewal (see `extendOne`). */
export const EXTEND = defineScript({
  name: 'extend',
  keys: ['exclusive', 'shared', 'parked'],
  args: ['owner', 'ttl', 'client'],
  body: `
${EXTEND_ONE}
return extendOne(exclusive, shared, parked, owner, ttl, client)
`,
  reply: flag,
})

/**
 * Many renewals in one script, for the renewals a manager has due in one tick: the keys and
 * arguments of `EXTEND`, repeated per lock, in the same order. Replies one 1/0 per lock. Only for
 * locks on one node (a standalone server; on a Cluster, one hash slot).
 */
export const EXTEND_MANY: LuaScript & {
  encode(
    renewals: readonly { keys: { exclusive: RedisKey; shared: RedisKey; parked: RedisKey }; owner: string; ttl: number; client: string }[],
  ): [RedisKey[], RedisArgument[]]
  decode(this: void, reply: unknown): boolean[]
} = (() => {
  const source = `${EXTEND_ONE}
local out = {}
for i = 1, #KEYS, 3 do
  out[#out + 1] = extendOne(KEYS[i], KEYS[i + 1], KEYS[i + 2], ARGV[i], ARGV[i + 1], ARGV[i + 2])
end
return out
`
  const script = defineScript({ name: 'extendMany', keys: [], args: [], body: source, reply: (raw) => (raw as unknown[]).map(flag) })
  return {
    name: script.name,
    source: script.source,
    sha: script.sha,
    keys: 0, // variadic: each call passes its own keys (the runner sends their count)
    encode: (renewals) => [
      renewals.flatMap((r) => [r.keys.exclusive, r.keys.shared, r.keys.parked]),
      renewals.flatMap((r) => [r.owner, r.ttl, r.client]),
    ],
    decode: (reply) => script.decode(reply),
  }
})()
