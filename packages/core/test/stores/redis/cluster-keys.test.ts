import { afterAll, describe, expect, test } from 'vitest'
import type { Cluster } from 'ioredis'
import { hashTag, lockKeys, type RedisKey } from '../../../src/stores/redis/keys.js'
import { closeAll, connect, owner, request, storeFor, uniqueKey } from './helpers.js'

afterAll(closeAll)

const suffix = uniqueKey('')
/** Keys whose braces would break a naive `{key}` tag: empty, unbalanced, leading `}`, empty `{}`. */
const trickyKeys = [
  '',
  '}',
  '{',
  '{}',
  '}{',
  '%',
  '%7D',
  '%00',
  `}${suffix}`,
  `{${suffix}`,
  `{}${suffix}`,
  `a{b}c${suffix}`,
  `}}{{${suffix}`,
  `x}y{z}${suffix}`,
  `\uD800{}${suffix}`,
  `new\nline{${suffix}`,
]
/** Client `keyPrefix`es: none, plain, with a full tag, with an open brace, ending in a brace. */
const prefixes = ['', 'app:', '{app}:', 'a{b:', 'p{']

describe('key layout', () => {
  test('the tag never contains `}`, is never empty, and keeps distinct keys distinct', () => {
    const tags = new Set<string>()
    for (const key of trickyKeys) {
      const tag = hashTag(key)
      expect(tag).not.toContain('}')
      expect(tag).not.toBe('')
      tags.add(tag)
    }
    expect(tags.size).toBe(trickyKeys.length)
  })

  test('readable for ordinary keys', () => {
    expect(lockKeys('lock:order:42', '').exclusive).toBe('{lock:order:42}:x')
  })
})

describe('Redis Cluster with tricky keys', () => {
  const cluster = connect('cluster') as Cluster

  test.each(prefixes)('every key of a lock hashes to one slot (keyPrefix %j)', async (prefix) => {
    for (const key of trickyKeys) {
      const keys = lockKeys(key, '')
      const all: RedisKey[] = [keys.exclusive, keys.shared, keys.fence, keys.queue, keys.alive]
      const slots = new Set<number>()
      for (const k of all) {
        const full = typeof k === 'string' ? prefix + k : Buffer.concat([Buffer.from(prefix), k])
        slots.add(Number(await cluster.cluster('KEYSLOT', full as string)))
      }
      expect(slots.size, `key ${JSON.stringify(key)} with prefix ${JSON.stringify(prefix)}`).toBe(1)
    }
  })

  test.each(prefixes)('every operation works on the Cluster (keyPrefix %j)', async (prefix) => {
    const store = storeFor('cluster', {}, prefix ? { keyPrefix: prefix } : {})
    for (const key of trickyKeys) {
      const label = JSON.stringify(key)
      await store.forceRelease(key)
      const x = request(key)
      expect((await store.acquire(x)).granted, label).toBe(true)
      expect((await store.acquire(request(key, { clientId: 'c1', waiting: true }))).granted, label).toBe(false)
      expect(await store.extend(key, x.owner, 5000), label).toBe(true)
      expect(
        (await store.holders(key)).map((h) => h.owner),
        label,
      ).toEqual([x.owner])
      expect(await store.release(key, x.owner), label).toBe(true)
      await store.steal({ key, owner: owner(), ttlMs: 1000, clientId: 'c2' })
      expect(await store.forceRelease(key), label).toBe(true)
      // c1 queued above: the free lock is its turn.
      const s = request(key, { mode: 'shared', clientId: 'c1' })
      expect((await store.acquire(s)).granted, label).toBe(true)
      expect(await store.release(key, s.owner), label).toBe(true)
    }
  })

  test('locks spread over the slots (the tag is the key, not a constant)', async () => {
    const slots = new Set<number>()
    for (let i = 0; i < 20; i++) slots.add(Number(await cluster.cluster('KEYSLOT', lockKeys(`order:${i}`, '').exclusive as string)))
    expect(slots.size).toBeGreaterThan(10)
  })
})
