import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { LockSubject } from './subject.js'
import { randomToken } from './tokens.js'

/**
 * The least a correct Redis lock can do, written by hand: `SET key token NX PX ttl` to take it, and
 * a compare-and-delete script (`EVALSHA`) to release only if the token is still ours. Two round
 * trips, no waiting, no renewal, no fencing token: the baseline the issue's ≤ 1.10× target is
 * measured against. It refuses instead of waiting, so it only serves uncontended cases.
 */
export const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`
export const RELEASE_SHA = createHash('sha1').update(RELEASE).digest('hex')

export function minimalRedisLock(redis: Redis, ttlMs = 30_000): LockSubject & { prepare(): Promise<void> } {
  return {
    id: 'minimal',
    label: 'minimal lock (SET NX PX + EVALSHA)',
    async prepare() {
      await redis.script('LOAD', RELEASE)
    },
    async run(key, critical) {
      const token = randomToken()
      if ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') throw new Error(`minimal lock: ${key} is taken`)
      try {
        await critical()
      } finally {
        await redis.evalsha(RELEASE_SHA, 1, key, token)
      }
    },
  }
}

/**
 * The least a lock with fencing tokens can do: the grant and the token in one atomic step, so one
 * script (`SET NX PX` + `INCR` of a counter) instead of a bare `SET`, and the same compare-and-
 * delete release. cachelock's acquire has to be a script for the same reason; this row shows what
 * that alone costs.
 */
export const FENCED_ACQUIRE = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) end return 0`
export const FENCED_ACQUIRE_SHA = createHash('sha1').update(FENCED_ACQUIRE).digest('hex')

export function minimalFencedRedisLock(redis: Redis, ttlMs = 30_000): LockSubject & { prepare(): Promise<void> } {
  return {
    id: 'minimal-fenced',
    label: 'minimal fenced lock (EVALSHA ×2)',
    async prepare() {
      await redis.script('LOAD', FENCED_ACQUIRE)
      await redis.script('LOAD', RELEASE)
    },
    async run(key, critical) {
      const token = randomToken()
      // Both keys share a hash tag, as a Cluster-safe lock's must.
      const fencingToken = (await redis.evalsha(FENCED_ACQUIRE_SHA, 2, `{${key}}`, `{${key}}:fence`, token, ttlMs)) as number
      if (fencingToken === 0) throw new Error(`minimal fenced lock: ${key} is taken`)
      try {
        await critical()
      } finally {
        await redis.evalsha(RELEASE_SHA, 1, `{${key}}`, token)
      }
    },
  }
}

/** The physical floor of any two-round-trip lock: two `PING`s, one after the other. */
export function twoPings(redis: Redis): LockSubject {
  return {
    id: 'floor',
    label: 'floor: two PINGs',
    async run(_key, critical) {
      await redis.ping()
      await critical()
      await redis.ping()
    },
  }
}
