import { afterAll, describe, expect, test, vi } from 'vitest'
import type { Cluster, Redis } from 'ioredis'
import { lockKeys } from '../../../src/stores/redis/keys.js'
import type { RedisStore } from '../../../src/stores/redis/redis-store.js'
import { MODES, closeAll, connect, owner, request, sleep, storeFor, uniqueKey, until } from './helpers.js'

afterAll(closeAll)

describe.each(MODES)('RedisStore on %s', (mode) => {
  const store: RedisStore = storeFor(mode)
  const raw: Redis | Cluster = connect(mode)

  test('grants exclusive, refuses a second holder with the holder’s remaining ttl, then grants after release', async () => {
    const key = uniqueKey()
    const a = request(key, { ttlMs: 5000 })
    const first = await store.acquire(a)
    expect(first.granted).toBe(true)

    const refused = await store.acquire(request(key, { clientId: 'c1' }))
    expect(refused.granted).toBe(false)
    if (refused.granted) return
    expect(refused.retryInMs).toBeGreaterThan(4000)
    expect(refused.retryInMs).toBeLessThanOrEqual(5000)

    expect(await store.release(key, a.owner)).toBe(true)
    expect(await store.release(key, a.owner)).toBe(false)
    expect((await store.acquire(request(key, { clientId: 'c1' }))).granted).toBe(true)
  })

  test('shared holders coexist; exclusive waits for all of them; shared waits for exclusive', async () => {
    const key = uniqueKey()
    const r1 = request(key, { mode: 'shared', ttlMs: 3000 })
    const r2 = request(key, { mode: 'shared', ttlMs: 6000, clientId: 'c1' })
    expect((await store.acquire(r1)).granted).toBe(true)
    expect((await store.acquire(r2)).granted).toBe(true)

    const writer = await store.acquire(request(key, { clientId: 'c2' }))
    expect(writer.granted).toBe(false)
    // Free only when the longest shared hold ends.
    if (!writer.granted) expect(writer.retryInMs).toBeGreaterThan(5000)

    expect(await store.release(key, r2.owner)).toBe(true)
    expect((await store.acquire(request(key, { clientId: 'c2' }))).granted).toBe(false)
    expect(await store.release(key, r1.owner)).toBe(true)

    const w = request(key, { clientId: 'c2' })
    expect((await store.acquire(w)).granted).toBe(true)
    const reader = await store.acquire(request(key, { mode: 'shared', clientId: 'c3' }))
    expect(reader.granted).toBe(false)
    if (!reader.granted) expect(reader.retryInMs).toBeGreaterThan(9000)
  })

  test('extend is owner-checked and sets the remaining ttl from now, by Redis’s clock', async () => {
    const key = uniqueKey()
    const a = request(key, { ttlMs: 1000 })
    await store.acquire(a)
    expect(await store.extend(key, a.owner, 60_000)).toBe(true)
    const keys = lockKeys(key, '')
    const pttl = await raw.pttl(keys.exclusive)
    expect(pttl).toBeGreaterThan(59_000)
    expect(pttl).toBeLessThanOrEqual(60_000)
    expect(await store.extend(key, owner(), 60_000)).toBe(false)

    const s = request(key + ':s', { mode: 'shared', ttlMs: 1000 })
    await store.acquire(s)
    expect(await store.extend(s.key, s.owner, 30_000)).toBe(true)
    const [holder] = await store.holders(s.key)
    expect(holder?.expiresInMs).toBeGreaterThan(29_000)
    expect(await store.extend(s.key, owner(), 30_000)).toBe(false)
  })

  test('expiry is Redis’s: a lapsed exclusive or shared hold is gone, and its owner can neither extend nor release it', async () => {
    const key = uniqueKey()
    const a = request(key, { ttlMs: 80 })
    const s = request(key + ':s', { mode: 'shared', ttlMs: 80 })
    await store.acquire(a)
    await store.acquire(s)
    await sleep(150)
    expect(await store.holders(key)).toEqual([])
    expect(await store.holders(s.key)).toEqual([])
    expect(await store.extend(key, a.owner, 1000)).toBe(false)
    expect(await store.extend(s.key, s.owner, 1000)).toBe(false)
    expect(await store.release(key, a.owner)).toBe(false)
    expect(await store.release(s.key, s.owner)).toBe(false)
    expect((await store.acquire(request(key))).granted).toBe(true)
  })

  test('the client’s clock plays no part: skewed by an hour, ttls and expiries are unchanged', async () => {
    const skew = vi.spyOn(Date, 'now').mockImplementation(() => 1_000_000_000_000)
    try {
      const key = uniqueKey('clock')
      const a = request(key, { ttlMs: 5000 })
      await store.acquire(a)
      const refused = await store.acquire(request(key, { clientId: 'c1' }))
      expect(refused.granted === false && refused.retryInMs! > 4500 && refused.retryInMs! <= 5000).toBe(true)
      expect((await store.holders(key))[0]?.expiresInMs).toBeGreaterThan(4500)
      const s = request(key + ':s', { mode: 'shared', ttlMs: 5000 })
      await store.acquire(s)
      const [reader] = await store.holders(s.key)
      expect(reader?.expiresInMs).toBeGreaterThan(4500)
      expect(reader?.expiresInMs).toBeLessThanOrEqual(5000)
    } finally {
      skew.mockRestore()
    }
  })

  test('stale release: A’s lock expires, B takes it; A’s release and extend leave B’s lock alone', async () => {
    const key = uniqueKey()
    const a = request(key, { ttlMs: 50 })
    await store.acquire(a)
    await sleep(100)
    const b = request(key, { clientId: 'c1', ttlMs: 10_000 })
    expect((await store.acquire(b)).granted).toBe(true)

    expect(await store.release(key, a.owner)).toBe(false)
    expect(await store.extend(key, a.owner, 60_000)).toBe(false)
    const holders = await store.holders(key)
    expect(holders).toHaveLength(1)
    expect(holders[0]?.owner).toBe(b.owner)
    expect(holders[0]?.expiresInMs).toBeLessThanOrEqual(10_000)
  })

  test('steal takes the lock from exclusive and shared holders, who lose extend and release', async () => {
    const key = uniqueKey()
    const x = request(key)
    const before = await store.acquire(x)
    const stolen = await store.steal({ key, owner: owner('c9'), ttlMs: 5000, clientId: 'c9' })
    expect(before.granted && stolen.fencingToken > before.fencingToken).toBe(true)
    expect(await store.extend(key, x.owner, 5000)).toBe(false)
    expect(await store.release(key, x.owner)).toBe(false)

    const sharedKey = uniqueKey()
    const r1 = request(sharedKey, { mode: 'shared' })
    const r2 = request(sharedKey, { mode: 'shared', clientId: 'c1' })
    await store.acquire(r1)
    await store.acquire(r2)
    const thief = owner('c9')
    await store.steal({ key: sharedKey, owner: thief, ttlMs: 5000, clientId: 'c9' })
    expect(await store.release(sharedKey, r1.owner)).toBe(false)
    expect(await store.extend(sharedKey, r2.owner, 1000)).toBe(false)
    expect(await store.holders(sharedKey)).toEqual([{ owner: thief, mode: 'exclusive', expiresInMs: expect.any(Number) }])
  })

  test('forceRelease removes every hold and says whether there was one', async () => {
    const key = uniqueKey()
    expect(await store.forceRelease(key)).toBe(false)
    await store.acquire(request(key, { mode: 'shared' }))
    await store.acquire(request(key, { mode: 'shared', clientId: 'c1' }))
    expect(await store.forceRelease(key)).toBe(true)
    expect(await store.holders(key)).toEqual([])
    expect((await store.acquire(request(key))).granted).toBe(true)
    expect(await store.forceRelease(key)).toBe(true)
    expect(await store.forceRelease(key)).toBe(false)

    const lapsed = uniqueKey()
    await store.acquire(request(lapsed, { mode: 'shared', ttlMs: 30 }))
    await sleep(60)
    expect(await store.forceRelease(lapsed)).toBe(false)
  })

  test('holders lists live holders with their mode and remaining ttl', async () => {
    const key = uniqueKey()
    expect(await store.holders(key)).toEqual([])
    const r1 = request(key, { mode: 'shared', ttlMs: 4000 })
    const r2 = request(key, { mode: 'shared', ttlMs: 8000, clientId: 'c1' })
    await store.acquire(r1)
    await store.acquire(r2)
    const holders = await store.holders(key)
    expect(holders.map((h) => [h.owner, h.mode])).toEqual([
      [r1.owner, 'shared'],
      [r2.owner, 'shared'],
    ])
    expect(holders[1]?.expiresInMs).toBeGreaterThan(7000)
  })

  test('fencing tokens grow across release, expiry, steal and a lost counter, and stay exact below 2^53', async () => {
    const key = uniqueKey()
    const tokens: number[] = []
    const grant = async (ttlMs = 10_000) => {
      const r = request(key, { ttlMs })
      const result = await store.acquire(r)
      if (!result.granted) throw new Error('expected a grant')
      tokens.push(result.fencingToken)
      return r
    }
    await store.release(key, (await grant()).owner)
    await grant(30)
    await sleep(60)
    await store.release(key, (await grant()).owner)
    tokens.push((await store.steal({ key, owner: owner(), ttlMs: 1000, clientId: 'c0' })).fencingToken)
    await store.forceRelease(key)
    // The counter expired (or was evicted): tokens still only grow.
    await raw.del(lockKeys(key, '').fence as string)
    await grant()
    await store.forceRelease(key)
    for (let i = 0; i < 20; i++) await store.release(key, (await grant()).owner)

    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number)
    for (const token of tokens) expect(Number.isSafeInteger(token)).toBe(true)
  })

  test('the fencing counter expires after fenceTtlFactor × ttl, and tokens keep growing after it did', async () => {
    const short = storeFor(mode, { fenceTtlFactor: 2 })
    const key = uniqueKey()
    const r = request(key, { ttlMs: 50 })
    const first = await short.acquire(r)
    const fence = lockKeys(key, '').fence as string
    const pttl = await raw.pttl(fence)
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(100)
    await short.release(key, r.owner)
    await sleep(150)
    expect(await raw.exists(fence)).toBe(0)
    const second = await short.acquire(request(key))
    expect(first.granted && second.granted && second.fencingToken > first.fencingToken).toBe(true)
  })

  test('a released or expired lock leaves no keys behind but the fencing counter', async () => {
    const key = uniqueKey()
    const r = request(key)
    await store.acquire(r)
    const keys = lockKeys(key, '')
    const exists = async (k: unknown) => raw.exists(k as string)
    await store.release(key, r.owner)
    expect(await exists(keys.exclusive)).toBe(0)
    expect(await exists(keys.shared)).toBe(0)
    expect(await exists(keys.fence)).toBe(1)

    // With a waiter and handOver: the release hands the lock to its parked request, for its turn at most.
    const handing = storeFor(mode, { handOver: true })
    await handing.acquire(r)
    const waiter = request(key, { clientId: 'c1', waiting: true })
    await handing.acquire(waiter)
    await handing.release(key, r.owner)
    expect(await raw.get(keys.exclusive as string)).toBe(waiter.owner)
    // The claim and the waiter's entries expire with its liveness (2 polls + 100 ms).
    for (const k of [keys.exclusive, keys.parked, keys.alive, keys.queue]) expect(await raw.pttl(k as string)).toBeLessThanOrEqual(300)
    expect(await exists(keys.shared)).toBe(0)
  })

  test('hostile keys are just keys: quotes, braces, newlines, Lua, empty, 10 kB, lone surrogates', async () => {
    const suffix = uniqueKey('')
    const keys = [
      `q"uo'te${suffix}`,
      `{${suffix}`,
      `}${suffix}`,
      `{}${suffix}`,
      `a}{b${suffix}`,
      `%7D${suffix}`,
      `}${suffix}`.replace('}', '%'),
      `line\nbreak\r\n${suffix}`,
      `"]]) redis.call('FLUSHALL') --${suffix}`,
      `x${'é'.repeat(5000)}${suffix}`,
      `\uD800${suffix}`,
      `\uDC00${suffix}`,
      `\uFFFD${suffix}`,
      `\u0000nul${suffix}`,
    ]
    const owners = keys.map(() => owner())
    for (const [i, key] of keys.entries()) {
      const result = await store.acquire(request(key, { owner: owners[i] as string }))
      expect(result.granted, `acquire ${JSON.stringify(key.slice(0, 40))}`).toBe(true)
    }
    // All distinct: every one is held by its own owner, none by another's.
    for (const [i, key] of keys.entries()) {
      expect((await store.holders(key)).map((h) => h.owner)).toEqual([owners[i]])
      expect(await store.extend(key, owners[i] as string, 5000)).toBe(true)
    }
    for (const [i, key] of keys.entries()) expect(await store.release(key, owners[i] as string)).toBe(true)
    // The empty key, used once here (it is shared by every run).
    const empty = request('')
    await store.forceRelease('')
    expect((await store.acquire(empty)).granted).toBe(true)
    expect(await store.release('', empty.owner)).toBe(true)
  })

  test('works with a client keyPrefix: keys carry the prefix, wake-ups still arrive', async () => {
    const prefixed = storeFor(mode, {}, { keyPrefix: 'pre{fix:' })
    const key = uniqueKey()
    const r = request(key)
    await prefixed.acquire(r)
    expect(await raw.exists(`pre{fix:${lockKeys(key, '').exclusive as string}`)).toBe(1)
    expect((await prefixed.acquire(request(key, { clientId: 'c1', waiting: true }))).granted).toBe(false)

    let wakes = 0
    const stop = prefixed.onRelease(key, () => wakes++)
    await until(() => wakes === 1)
    expect(await prefixed.release(key, r.owner)).toBe(true)
    await until(() => wakes === 2)
    stop()
  })

  test('store errors reject with the server’s error', async () => {
    const key = uniqueKey()
    await raw.set(lockKeys(key, '').shared, 'not a sorted set')
    await expect(store.acquire(request(key))).rejects.toThrow(/WRONGTYPE/)
  })
})
