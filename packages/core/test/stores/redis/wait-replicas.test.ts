import { afterAll, describe, expect, test } from 'vitest'
import type { Redis } from 'ioredis'
import { LockError, LockNotReplicatedError } from '../../../src/errors.js'
import { createLockManager } from '../../../src/index.js'
import { redisStoreFromUrl } from '../../../src/stores/redis/from-url.js'
import { lockKeys } from '../../../src/stores/redis/keys.js'
import { RedisStore } from '../../../src/stores/redis/redis-store.js'
import { MODES, closeAll, connect, owner, request, uniqueKey } from './helpers.js'
import { SENTINEL_URL, node, replicaPorts } from './sentinel-helpers.js'

/**
 * `waitReplicas`: a grant is reported only once that many replicas acknowledged it (WAIT, in the
 * same round trip). The trio has one replica, so `waitReplicas: 2` can never be met: every grant
 * must then be given back and reported, never kept.
 */
const stores: RedisStore[] = []
const nodes: Redis[] = []
afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()))
  nodes.forEach((client) => client.disconnect())
  await closeAll()
})

function sentinelStore(waitReplicas: number, waitTimeoutMs = 200): RedisStore {
  const store = redisStoreFromUrl(SENTINEL_URL, { waitReplicas, waitTimeoutMs })
  stores.push(store)
  return store
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => expect.fail(`expected a rejection, got ${JSON.stringify(value)}`),
    (error: unknown) => error,
  )
}

describe('RedisStore waitReplicas on the Sentinel trio (one replica)', () => {
  test('waitReplicas 1: the grant is on the replica when acquire resolves', async () => {
    const [replica] = await replicaPorts()
    const reader = node(replica!)
    nodes.push(reader)
    const store = sentinelStore(1, 1000)
    const key = uniqueKey('replicated')
    const r = request(key)
    expect(await store.acquire(r)).toMatchObject({ granted: true })
    // WAIT answered only after the replica acknowledged the offset it applied.
    expect(await reader.get(lockKeys(key, '').exclusive)).toBe(r.owner)
    expect(await store.release(key, r.owner)).toBe(true)
  })

  test('a grant too few replicas acknowledged is released and rejected with LockNotReplicatedError', async () => {
    const store = sentinelStore(2)
    const key = uniqueKey('unreplicated')
    const error = await rejection(store.acquire(request(key)))
    expect(error).toBeInstanceOf(LockNotReplicatedError)
    expect(error).toBeInstanceOf(LockError)
    expect(error).toMatchObject({ code: 'LOCK_NOT_REPLICATED', operation: 'acquire', key, acknowledged: 1, required: 2 })
    expect((error as Error).message).toMatch(/reached 1 of 2 required replica\(s\) within 200 ms; the grant was released/)
    // Nothing left held: another client takes it at once.
    expect(await store.holders(key)).toEqual([])
    expect(await sentinelStore(0).acquire(request(key))).toMatchObject({ granted: true })
  })

  test('a refusal is a refusal, not a replication error', async () => {
    const key = uniqueKey('refused')
    expect(await sentinelStore(0).acquire(request(key))).toMatchObject({ granted: true })
    expect(await sentinelStore(2).acquire(request(key))).toMatchObject({ granted: false })
  })

  test('a steal too few replicas acknowledged is released and rejected', async () => {
    const key = uniqueKey('steal')
    const first = request(key)
    await sentinelStore(0).acquire(first)
    const store = sentinelStore(2)
    const error = await rejection(store.steal({ key, owner: owner(), ttlMs: 10_000, clientId: 'c1' }))
    expect(error).toMatchObject({ code: 'LOCK_NOT_REPLICATED', operation: 'steal' })
    expect(await store.holders(key)).toEqual([])
  })

  test('a renewal too few replicas acknowledged is rejected, and the lock stays held', async () => {
    const key = uniqueKey('extend')
    const r = request(key)
    await sentinelStore(1).acquire(r)
    const error = await rejection(sentinelStore(2).extend(key, r.owner, 10_000))
    expect(error).toMatchObject({ code: 'LOCK_NOT_REPLICATED', operation: 'extend', acknowledged: 1 })
    expect((error as Error).message).toMatch(/the lock is kept, unconfirmed/)
    expect((await sentinelStore(0).holders(key)).map((holder) => holder.owner)).toEqual([r.owner])
    // A renewal of a lock this owner does not hold is `false`, as without the option.
    expect(await sentinelStore(2).extend(key, owner(), 10_000)).toBe(false)
  })

  test('through the manager: the caller gets LOCK_NOT_REPLICATED, and nobody holds the lock', async () => {
    const strict = createLockManager({ store: `${SENTINEL_URL}?waitReplicas=2&waitTimeoutMs=100` })
    const plain = createLockManager({ store: SENTINEL_URL })
    try {
      const name = uniqueKey('manager')
      const error = await rejection(strict.acquire(name))
      expect(error).toBeInstanceOf(LockNotReplicatedError)
      expect(error).toMatchObject({ code: 'LOCK_NOT_REPLICATED', key: `lock:${name}` })
      const handle = await plain.tryAcquire(name)
      expect(handle).not.toBeNull()
      await handle!.release()
    } finally {
      await Promise.all([strict.close(), plain.close()])
    }
  })

  test('after SCRIPT FLUSH the script is sent again, still followed by WAIT', async () => {
    const store = sentinelStore(2)
    const primary = store.client as unknown as Redis
    await primary.script('FLUSH')
    const key = uniqueKey('noscript')
    expect(await rejection(store.acquire(request(key)))).toMatchObject({ code: 'LOCK_NOT_REPLICATED', acknowledged: 1 })
    expect(await store.holders(key)).toEqual([])
  })
})

describe.each(MODES)('RedisStore waitReplicas on %s (no replicas)', (mode) => {
  test('WAIT runs on the lock’s own node and reports 0 replicas; the grant is given back', async () => {
    const store = new RedisStore(connect(mode), { waitReplicas: 1, waitTimeoutMs: 50 })
    const key = uniqueKey('no-replica')
    expect(await rejection(store.acquire(request(key)))).toMatchObject({ code: 'LOCK_NOT_REPLICATED', acknowledged: 0 })
    expect(await store.holders(key)).toEqual([])
  })
})

describe('waitReplicas options', () => {
  test.each([
    [{ waitReplicas: -1 }, /`options.waitReplicas` to be an integer from 0 to 100/],
    [{ waitReplicas: 1.5 }, /`options.waitReplicas`/],
    [{ waitReplicas: 1, waitTimeoutMs: 0 }, /`options.waitTimeoutMs` to be a finite number/],
    [{ waitReplicas: 1, waitTimeoutMs: 10_000 }, /`options.waitTimeoutMs` to be less than options.commandTimeoutMs \(10000\)/],
    [{ waitReplicas: 1, waitTimeoutMs: 500, commandTimeoutMs: 400 }, /less than options.commandTimeoutMs \(400\)/],
  ])('%o is refused', (options, message) => {
    expect(() => new RedisStore(connect('standalone'), options)).toThrow(message)
  })

  test('a client without pipeline() is refused when waitReplicas is on', () => {
    const client = { evalsha: () => Promise.resolve(), eval: () => Promise.resolve(), duplicate: () => ({}) }
    expect(() => new RedisStore(client as never, { waitReplicas: 1 })).toThrow(/a client with pipeline\(\)/)
    expect(() => new RedisStore(client as never, { waitReplicas: 0 })).not.toThrow()
  })
})
