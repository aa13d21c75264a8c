import { afterAll, describe, expect, test } from 'vitest'
import type { Cluster, Redis } from 'ioredis'
import { lockKeys } from '../../../src/stores/redis/keys.js'
import type { RedisStore } from '../../../src/stores/redis/redis-store.js'
import { MODES, closeAll, connect, owner, request, storeFor, uniqueKey } from './helpers.js'

afterAll(closeAll)

/**
 * A token is `max(counter + 1, Redis time in µs)`. Usually the clock is ahead of the counter and
 * hides the counter's part. After Redis's clock steps back, or a failover to a replica whose clock
 * is behind, the counter is ahead: then only its `+ 1` keeps two grants from sharing a token, on
 * every path a token is taken (the uncontended fast path, the general path, steal).
 */
describe.each(MODES)('RedisStore fencing with the counter ahead of Redis’s clock (%s)', (mode) => {
  const store: RedisStore = storeFor(mode)
  const raw: Redis | Cluster = connect(mode)

  /** Put the counter of `key` about 11.6 days (10^12 µs) ahead of the clock; resolves its value. */
  async function counterAhead(key: string): Promise<number> {
    const ahead = Date.now() * 1000 + 1e12
    await raw.set(lockKeys(key, '').fence, String(ahead), 'PX', 60_000)
    return ahead
  }

  async function grant(store: RedisStore, key: string, overrides: Parameters<typeof request>[1] = {}) {
    const r = request(key, overrides)
    const result = await store.acquire(r)
    if (!result.granted) throw new Error(`expected a grant of ${key}`)
    return { owner: r.owner, token: result.fencingToken }
  }

  test('every grant gets a token above the counter and above the grant before, on every path', async () => {
    const key = uniqueKey('fence-ahead')
    const tokens = [await counterAhead(key)]

    // The uncontended fast path, twice.
    for (let i = 0; i < 2; i++) {
      const held = await grant(store, key)
      tokens.push(held.token)
      await store.release(key, held.owner)
    }
    // Shared grants take the general path; holders at the same time must not share a token either.
    const readers = [await grant(store, key, { mode: 'shared' }), await grant(store, key, { mode: 'shared', clientId: 'c1' })]
    tokens.push(...readers.map((reader) => reader.token))
    for (const reader of readers) await store.release(key, reader.owner)
    // An exclusive grant on the general path: a refused waiter left its marks (`q`, `l`).
    const holder = await grant(store, key)
    tokens.push(holder.token)
    expect((await store.acquire(request(key, { clientId: 'c2', waiting: true }))).granted).toBe(false)
    await store.release(key, holder.owner)
    tokens.push((await grant(store, key, { clientId: 'c2' })).token)
    // Steal, twice.
    for (let i = 0; i < 2; i++) tokens.push((await store.steal({ key, owner: owner(), ttlMs: 10_000, clientId: 'c3' })).fencingToken)

    for (let i = 1; i < tokens.length; i++) expect(tokens[i], `token ${i} after ${tokens[i - 1]}`).toBeGreaterThan(tokens[i - 1]!)
    expect(tokens.every((token) => Number.isSafeInteger(token))).toBe(true)
  })

  test('a thief on another client gets a token above the holder it displaced', async () => {
    const key = uniqueKey('fence-ahead-steal')
    await counterAhead(key)
    const other = storeFor(mode)
    const holder = await grant(store, key)
    const stolen = await other.steal({ key, owner: owner('c1'), ttlMs: 10_000, clientId: 'c1' })
    expect(stolen.fencingToken).toBeGreaterThan(holder.token)
    expect(await store.extend(key, holder.owner, 10_000)).toBe(false)
  })
})
