import diagnostics from 'node:diagnostics_channel'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { Redis } from 'ioredis'
import { afterAll, describe, expect, test } from 'vitest'
import { channelNames, createLockManager, createStore, type FinalizedEvent, type LockManager } from '@cachelock/core'
import { REDIS_URL, uniquePrefix } from './support/env.js'
import { redisClient } from './support/redis-clients.js'
import { prefixPattern, scanKeys } from './support/redis-keys.js'
import { report } from './support/report.js'
import { nowMs, sleep } from './support/timing.js'

// As if vitest ran with --expose-gc.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/**
 * A `LockHandle` the app dropped while holding its lock is released by a finalizer once collected
 * (`releaseOnFinalize`, on by default). The ttl here is a minute, so only the finalizer can explain
 * the lock being free within the test: not expiry.
 */
const TTL = 60_000
const redis = redisClient(REDIS_URL) as Redis
afterAll(() => redis.quit())

/** Acquire in a frame of its own, so no local variable of the test keeps the handle reachable. */
async function acquireAndDrop(locks: LockManager, name: string): Promise<WeakRef<object>> {
  return new WeakRef(await locks.acquire(name))
}

/**
 * Collect until `done`. `WeakRef.deref()` keeps its target alive until the current job ends, so
 * each check happens in a later job than the collection before it.
 */
async function collectUntil(done: () => Promise<boolean>, timeoutMs = 20_000): Promise<boolean> {
  const started = nowMs()
  while (nowMs() - started < timeoutMs) {
    await sleep(10)
    gc()
    await sleep(10)
    if (await done()) return true
  }
  return false
}

const stores = [
  { name: 'memory', store: () => createStore('memory://'), keys: async () => [] as string[] },
  { name: 'redis', store: () => createStore(REDIS_URL), keys: (prefix: string) => scanKeys(redis, prefixPattern(prefix)) },
]

describe.each(stores)('release on finalize on $name', ({ name, store, keys }) => {
  test('a dropped handle is collected and its lock freed in the store, long before its ttl', async () => {
    const prefix = uniquePrefix('finalize')
    const locks = createLockManager({ store: store(), prefix, ttl: TTL })
    const events: FinalizedEvent[] = []
    const listener = (event: unknown) => events.push(event as FinalizedEvent)
    diagnostics.subscribe(channelNames.finalized, listener)
    try {
      const dropped = await acquireAndDrop(locks, 'dropped')
      const started = nowMs()
      const holders = () => locks.store.holders(locks.keyFor('dropped'))
      expect(await holders()).toHaveLength(1)
      if (name === 'redis') expect(await keys(prefix)).toContain(`{${prefix}dropped}:x`)

      expect(await collectUntil(async () => (await holders()).length === 0)).toBe(true)
      const freedMs = nowMs() - started
      expect(dropped.deref()).toBeUndefined()
      await sleep(20)
      expect(events.filter((event) => event.key === locks.keyFor('dropped'))).toHaveLength(1)
      // In Redis, the exclusive key itself is gone (the fencing counter stays, by design).
      if (name === 'redis') expect((await keys(prefix)).filter((key) => key.endsWith(':x'))).toEqual([])
      // And another manager can take it at once.
      const retaken = await createLockManager({ store: locks.store, prefix }).tryAcquire('dropped')
      expect(retaken).not.toBeNull()
      await retaken!.release()
      report(
        `finalize/${name}`,
        { ttl: TTL, freedMs },
        `dropped handle's lock freed by its finalizer ${freedMs.toFixed(0)} ms after the drop (ttl ${TTL} ms)`,
      )
    } finally {
      diagnostics.unsubscribe(channelNames.finalized, listener)
      await locks.forceRelease('dropped')
      await locks.close()
    }
  })
})
