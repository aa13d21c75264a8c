import { Redis } from 'ioredis'
import { afterAll, describe, expect, test } from 'vitest'
import { createLockManager, InvalidLockArgumentError } from '@cachelock/core'
import { RedisStore, type RedisStoreOptions } from '@cachelock/core/redis'
import { REDIS_URL, uniquePrefix } from './support/env.js'
import { describeOutcome, outcomeOf } from './support/outcome.js'
import { keysUnder } from './support/store-keys.js'

/**
 * `new RedisStore(client, options)`: numbers that cannot be durations must be refused when the
 * store is made. Unchecked, they reach the Lua scripts, and a script that fails half way has
 * already written: Redis does not roll a script back. The ACQUIRE script sets the lock key and only
 * then the fencing counter with `PX fenceTtl`; a fenceTtl Redis refuses (NaN, Infinity, beyond
 * 2^63) fails the call after the lock was set, so the caller is told "not acquired" while Redis
 * holds the lock, under an owner nobody has, for the full ttl.
 */
const clients: Redis[] = []
afterAll(() => Promise.all(clients.map((client) => client.quit())))
const client = () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
  clients.push(redis)
  return redis
}

const bad: [keyof RedisStoreOptions, unknown][] = [
  ['commandTimeoutMs', Number.NaN],
  ['commandTimeoutMs', '10000'],
  ['fenceTtlFactor', Number.NaN],
  ['fenceTtlFactor', Infinity],
  ['fenceTtlFactor', 1e20],
  ['subscriberIdleMs', -5],
  ['waiterLivenessPolls', Number.NaN],
  ['handoffGraceMs', -1],
]

describe('RedisStore options', () => {
  test.each(bad)('%s %o is refused with InvalidLockArgumentError', (option, value) => {
    const outcome = { store: undefined as RedisStore | undefined }
    try {
      outcome.store = new RedisStore(client(), { [option]: value })
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidLockArgumentError)
      expect((error as InvalidLockArgumentError).argument).toContain(option)
      return
    } finally {
      void outcome.store?.close()
    }
    expect.unreachable(`new RedisStore(client, { ${option}: ${String(value)} }) was accepted`)
  })

  test.each([Number.NaN, Infinity, 1e20])('an acquire that fails (fenceTtlFactor %o) leaves no lock in Redis', async (fenceTtlFactor) => {
    let store: RedisStore
    try {
      store = new RedisStore(client(), { fenceTtlFactor })
    } catch {
      return // refused up front: nothing can be left behind
    }
    const prefix = uniquePrefix('redis-options')
    const locks = createLockManager({ store, prefix })
    try {
      const outcome = await outcomeOf(() => locks.acquire('x', { timeout: 0 }))
      if (outcome.kind === 'rejected') {
        // Told "not acquired": then nobody may hold it.
        expect(await locks.store.holders(locks.keyFor('x')), describeOutcome(outcome)).toEqual([])
        expect((await keysUnder(REDIS_URL, prefix)).filter((key) => key.endsWith(':x'))).toEqual([])
      }
    } finally {
      await locks.forceRelease('x').catch(() => undefined)
      await store.close()
    }
  })
})
