import { randomBytes } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { afterAll, describe, expect, test, vi } from 'vitest'
import { createLockManager, type LockHandle, type LockManager } from '@cachelock/core'
import { RedisStore } from '@cachelock/core/redis'
import { STORES, uniquePrefix } from './support/env.js'
import { databaseKeys, isDatabaseUrl } from './support/database-keys.js'
import { memcachedKeys } from './support/memcached-keys.js'
import { primaries, recordingScripts, redisClient } from './support/redis-clients.js'
import { prefixPattern, scanKeyBytes } from './support/redis-keys.js'
import { sleep } from './support/timing.js'

// Slow on a loaded 2-core machine; every wait inside has its own, tighter bound.
vi.setConfig({ testTimeout: 90_000 })

/**
 * Any string is a lock name. Names that look like code, carry Redis hash-tag braces, quotes,
 * newlines, control characters, 10 kB of text, or UTF-16 that is not well-formed must:
 * - lock: two managers on separate connections exclude each other on every one of them;
 * - stay distinct: all of them held at once by one manager, each in its own key (a collision would
 *   make one of those acquisitions fail), including pairs built to collide under a careless
 *   encoding (a lone surrogate and U+FFFD, `}` and its escape `%7D`, NFC and NFD);
 * - change nothing else: Redis runs the same few scripts whatever the name (at most one SHA per
 *   store operation), all still cached after (SCRIPT EXISTS), and sentinels outside the prefix
 *   are untouched.
 */
const hex64 = 'ab'.repeat(32)
const HOSTILE: string[] = [
  ']] redis.call("FLUSHALL") --[[',
  "'; return redis.call('FLUSHDB') --",
  'return redis.call("DEL", KEYS[1])',
  '{',
  '}',
  '{}',
  '}{',
  '{tag}',
  '{a}{b}',
  'x{y}z',
  '%',
  '%25',
  '%7D',
  '%00',
  '',
  '"double"',
  "'single'",
  '`back`',
  '\\',
  'line\nbreak',
  'cr\r\nlf',
  '\t',
  ' ',
  '  two  spaces  ',
  '\u0000nul',
  '\u007f',
  '*',
  '?',
  '[a-z]',
  'x'.repeat(10_240),
  '锁🔒',
  'e\u0301', // NFD é
  '\u00e9', // NFC é
  '\ud800',
  '\udc00',
  'a\ud800b',
  '\ufffd',
  '~lock',
  'x~fence',
  `name#${hex64}`,
]

/** Sentinels outside the test's prefix: any script or command the names could inject would hit them. */
const SENTINEL = `sentinel:${randomBytes(4).toString('hex')}`

describe.each(STORES)('hostile names on $name', (store) => {
  const prefix = uniquePrefix('hostile')
  /** Redis runs scripts whose SHAs the test records; the other stores are reached by URL. */
  const redis = store.name === 'redis' || store.name === 'cluster'
  const shas = new Set<string>()
  let raw: Redis | Cluster | undefined
  const managers: LockManager[] = []
  const manager = () => {
    let locks: LockManager
    if (!redis) {
      locks = createLockManager({ store: store.url, prefix })
    } else {
      const client = redisClient(store.url)
      locks = createLockManager({ store: new RedisStore(recordingScripts(client, shas), { closeClient: true }), prefix })
    }
    managers.push(locks)
    return locks
  }
  afterAll(async () => {
    await Promise.all(managers.map((locks) => locks.close()))
    raw?.disconnect()
  })

  test(`${HOSTILE.length} hostile names lock, exclude across managers, stay distinct, and touch nothing else`, async () => {
    const a = manager()
    const b = manager()
    const sentinels = await placeSentinels()

    await everyOperation(a, b, 'plain')

    const held = new Map<string, LockHandle>()
    for (const name of HOSTILE) {
      const handle = await a.tryAcquire(name)
      expect(handle, `${JSON.stringify(name)} could not be taken while the others are held: it collides with one`).not.toBeNull()
      held.set(name, handle!)
    }
    for (const name of HOSTILE) {
      expect(await b.tryAcquire(name), `${JSON.stringify(name)} was granted to a second manager`).toBeNull()
      const owners = (await b.store.holders(b.keyFor(name))).map((holder) => holder.owner)
      expect(owners, JSON.stringify(name)).toHaveLength(1)
      expect(owners[0]!.startsWith(`${a.clientId}:`), JSON.stringify(name)).toBe(true)
    }
    for (const handle of held.values()) await handle.release()
    for (const name of HOSTILE) await everyOperation(a, b, name)

    // Each name has its own fencing counter (nothing else is left): as many as names, plus "plain".
    expect(await fenceKeyCount()).toBe(HOSTILE.length + 1)
    expect(await readSentinels()).toEqual(sentinels)
    if (redis) {
      // One script per store operation (acquire, release, extend, steal, force release, holders,
      // listen): a script built from its input would add a SHA per name, 40 here.
      expect(shas.size, [...shas].join(', ')).toBeLessThanOrEqual(7)
      for (const node of await primaries(raw!)) {
        const exists = (await node.script('EXISTS', ...shas)) as number[]
        expect(
          exists.every((flag) => flag === 1),
          'every script still cached, unchanged',
        ).toBe(true)
      }
    }
  })

  /** Acquire, refuse, wait (and be woken), extend, read holders, steal, release, force-release: every script. */
  async function everyOperation(a: LockManager, b: LockManager, name: string): Promise<void> {
    const first = await a.acquire(name, { timeout: 5000 })
    const waiting = b.withLock(name, () => 'woken', { timeout: 10_000 })
    await sleep(20) // let the waiter be refused, so it listens for the release
    await first.extend()
    expect((await a.store.holders(a.keyFor(name))).length, JSON.stringify(name)).toBe(1)
    await first.release()
    await expect(waiting, JSON.stringify(name)).resolves.toBe('woken')
    const thief = await b.acquire(name, { steal: true })
    expect(await a.forceRelease(name), JSON.stringify(name)).toBe(true)
    expect(thief.signal.aborted).toBe(false) // another manager's force release: heard at its next renewal
    await thief.release().catch(() => undefined)
    expect(await a.isLocked(name), JSON.stringify(name)).toBe(false)
  }

  async function placeSentinels(): Promise<string[]> {
    const values = [`${SENTINEL}:a`, `{${SENTINEL}}:x`].map((key) => `${key}=${randomBytes(8).toString('hex')}`)
    if (!redis) {
      const locks = createLockManager({ store: store.url, prefix: `${SENTINEL}:` })
      managers.push(locks)
      // A real lock outside the prefix serves as the sentinel: it must still be held at the end.
      sentinelHandle = await locks.acquire('sentinel', { ttl: 120_000 })
      return ['held']
    }
    raw = redisClient(store.url)
    for (const entry of values) {
      const [key, value] = entry.split('=') as [string, string]
      await raw.set(key, value, 'EX', 300)
    }
    return values
  }

  let sentinelHandle: LockHandle | undefined
  async function readSentinels(): Promise<string[]> {
    if (!redis) {
      const still =
        sentinelHandle !== undefined &&
        (await sentinelHandle.extend().then(
          () => true,
          () => false,
        ))
      await sentinelHandle?.release().catch(() => undefined)
      return still ? ['held'] : ['lost']
    }
    const keys = [`${SENTINEL}:a`, `{${SENTINEL}}:x`]
    const values = await Promise.all(keys.map((key) => raw!.get(key)))
    return keys.map((key, index) => `${key}=${values[index]}`)
  }

  async function fenceKeyCount(): Promise<number> {
    // A database keeps one row per lock, which carries its fencing counter.
    if (isDatabaseUrl(store.url)) return new Set(await databaseKeys(store.url, prefix)).size
    if (store.name === 'memcached') {
      const keys = (await memcachedKeys(store.url)).filter((key) => key.startsWith(prefix))
      expect(keys.filter((key) => !key.endsWith('~fence'))).toEqual([])
      return new Set(keys).size
    }
    const keys = (await Promise.all((await primaries(raw!)).map((node) => scanKeyBytes(node, prefixPattern(prefix))))).flat()
    const ids = keys.map((key) => key.toString('latin1'))
    expect(ids.filter((key) => !key.endsWith(':f'))).toEqual([])
    return new Set(ids).size
  }
})
