import { afterAll, describe, expect, it, test } from 'vitest'
import type { Redis } from 'ioredis'
import { lockStoreContract } from '@cachelock/core/testing'
import { createLockManager } from '../../../src/index.js'
import { createStore } from '../../../src/create-store.js'
import type { LazyStore } from '../../../src/lazy-store.js'
import { redisStoreFromUrl } from '../../../src/stores/redis/from-url.js'
import type { RedisStore } from '../../../src/stores/redis/redis-store.js'
import { request, uniqueKey, until } from './helpers.js'
import { SENTINEL_URL, primaryPort, replicaPorts } from './sentinel-helpers.js'

// The same contract as every store, on the primary Sentinel names; and again with every grant and
// renewal waiting for the replica (WAIT), which must change nothing a caller can observe.
lockStoreContract({ describe, it, afterAll }, 'RedisStore (sentinel)', () => redisStoreFromUrl(SENTINEL_URL), {
  list: true,
  waiters: true,
  close: (store) => store.close?.(),
})
lockStoreContract(
  { describe, it, afterAll },
  'RedisStore (sentinel, waitReplicas 1)',
  () => redisStoreFromUrl(`${SENTINEL_URL}?waitReplicas=1`),
  {
    list: true,
    waiters: true,
    close: (store) => store.close?.(),
  },
)

describe('redis+sentinel:// URLs', () => {
  const stores: RedisStore[] = []
  afterAll(() => Promise.all(stores.map((store) => store.close())))

  test('createStore connects to the primary Sentinel names, and close() ends the client', async () => {
    const store = (await (createStore(SENTINEL_URL) as LazyStore).load()) as RedisStore
    stores.push(store)
    const key = uniqueKey('sentinel')
    const r = request(key)
    expect(await store.acquire(r)).toMatchObject({ granted: true })
    const client = store.client as Redis
    // The node ioredis was sent to by Sentinel is the primary, not a replica.
    const port = Number(/tcp_port:(\d+)/.exec(await client.info('server'))?.[1])
    expect(port).toBe(await primaryPort())
    expect(await replicaPorts()).not.toContain(port)
    expect(((await client.call('ROLE')) as unknown[])[0]).toBe('master')
    expect(await store.release(key, r.owner)).toBe(true)
    await store.close()
    await until(() => client.status === 'end')
  })

  test('waiters are woken through pub/sub on the primary', async () => {
    const a = createLockManager({ store: SENTINEL_URL })
    const b = createLockManager({ store: SENTINEL_URL, sleep: 60_000 })
    try {
      const name = uniqueKey('wake')
      const held = await a.acquire(name)
      const waiting = b.acquire(name)
      await until(() => ((b.store as LazyStore).loaded as RedisStore | undefined)?.subscribed === true)
      await held.release()
      // With a 60 s poll, only the release's wake-up can hand the lock over within the test's time.
      const next = await waiting
      await next.release()
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })
})
