import { afterEach, describe, expect, test, vi } from 'vitest'
import { createLockManager } from '@cachelock/core'
import { RedisStore } from '@cachelock/core/redis'
import { redisClient } from './support/redis-clients.js'
import { CACHE_STORES, uniquePrefix } from './support/env.js'
import { clientOf, observe } from './support/inspect.js'
import { stopAll, Worker } from './support/processes.js'
import { sleep } from './support/timing.js'

vi.setConfig({ testTimeout: 90_000 })

/**
 * A Redis release hands the lock to the waiter at the head of the queue in the same step (the
 * RELEASE script), so the woken waiter holds it without asking again. If that waiter died after
 * it parked its request, nobody will ever renew or release the handed-over lock: it must expire
 * after a short claim (the store's `handoffGraceMs`, 500 ms by default), not after the waiter's
 * ttl, and the next process must then get it.
 *
 * The waiter is a real process, killed with SIGKILL while it waits. It polls every second, so its
 * turn in the queue (2 polls + 100 ms) is still live when the release comes, and the handover does
 * happen; the test checks that it did.
 */
const TTL = 10_000
const GRACE_MS = 500
const SLEEP = 1000
const workers = new Set<Worker>()
afterEach(() => stopAll(workers))

const REDIS_STORES = CACHE_STORES.filter((store) => store.name !== 'memcached')

describe.each(REDIS_STORES)('a handed-over lock whose waiter died, on $name', (target) => {
  test(`expires within the claim (${GRACE_MS} ms), not the waiter's ttl (${TTL} ms)`, async () => {
    const prefix = uniquePrefix('handover')
    const observer = observe(target.url, prefix)
    const holderClient = redisClient(target.url)
    const holder = createLockManager({ store: new RedisStore(holderClient, { handOver: true }), prefix, sleep: SLEEP })
    const next = createLockManager({ store: target.url, prefix, sleep: SLEEP })
    const key = observer.locks.keyFor('job')
    const store = observer.locks.store
    // What the waiter parked: `fenceTtl:owner` per waiting manager (keys.ts, `{T}:p`).
    const parked = async () => (await holderClient.eval("return redis.call('HVALS', KEYS[1])", 1, `{${key}}:p`)) as string[]
    try {
      const held = await holder.acquire('job', { ttl: TTL })
      const waiter = new Worker('holder-worker.ts', { url: target.url, prefix, sleep: SLEEP })
      workers.add(waiter)
      await waiter.next('ready')
      waiter.send({ cmd: 'acquire', name: 'job', ttl: TTL })
      await waiter.next('requested')
      // Its first refusal does not park (it is not waiting yet); the next attempt, a poll later, does.
      let requests: string[] = []
      for (let i = 0; i < 200 && requests.length === 0; i++) {
        requests = await parked()
        if (requests.length === 0) await sleep(50)
      }
      expect(requests).toHaveLength(1)
      const deadOwner = requests[0]!.slice(requests[0]!.indexOf(':') + 1)

      await waiter.kill('SIGKILL')
      await held.release()

      // The release handed the lock to the dead waiter's request, for the claim only.
      const holders = await store.holders(key)
      expect(holders.map((h) => h.owner)).toEqual([deadOwner])
      expect(holders[0]!.expiresInMs).toBeLessThanOrEqual(GRACE_MS)

      // Nobody renews it: the next process gets the lock once the claim is over.
      const after = await next.acquire('job', { ttl: TTL, timeout: 30_000 })
      expect(after.fencingToken).toBeGreaterThan(held.fencingToken)
      expect((await observer.owners('job')).map(clientOf)).toEqual([next.clientId])
      await after.release()
    } finally {
      await stopAll(workers)
      await observer.locks.forceRelease('job').catch(() => undefined)
      await Promise.all([holder.close(), next.close(), observer.close()])
      holderClient.disconnect()
    }
  })
})
