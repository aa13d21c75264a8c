import memjs from 'memjs'
import { afterAll, describe, expect, it } from 'vitest'
import { InvalidLockArgumentError } from '../../../src/errors.js'
import { lockKeys } from '../../../src/stores/memcached/keys.js'
import { MemcachedStore } from '../../../src/stores/memcached/memcached-store.js'
import { decodeRecord } from '../../../src/stores/memcached/record.js'
import { SETUPS, URL_TWO, appClient, closeAll, openStore, owner, rawServers, request, serversHolding, uniqueKey, until } from './helpers.js'

afterAll(closeAll)

describe.concurrent.each(SETUPS)('MemcachedStore (%s)', (_label, url) => {
  const a = openStore(url)
  const b = openStore(url)
  const raw = rawServers(url)

  /** The item at `key` on whichever server holds it. */
  async function rawGet(key: string) {
    const items = await Promise.all(raw.map((server) => server.get(key, key)))
    return items.find((item) => item !== undefined)
  }

  async function rawDelete(key: string) {
    await Promise.all(raw.map((server) => server.delete(key, key)))
  }

  it('excludes across two clients, in both modes', async () => {
    const key = uniqueKey('two-clients')
    const first = owner('a')
    expect((await a.acquire(request(key, { owner: first }))).granted).toBe(true)
    expect((await b.acquire(request(key))).granted).toBe(false)
    expect((await b.acquire(request(key, { mode: 'shared' }))).granted).toBe(false)
    expect(await b.holders(key)).toEqual([{ owner: first, mode: 'exclusive' }])
    expect(await a.release(key, first)).toBe(true)

    const readers = [owner('b'), owner('a'), owner('b')]
    for (const [index, reader] of readers.entries()) {
      expect((await (index % 2 ? a : b).acquire(request(key, { owner: reader, mode: 'shared' }))).granted).toBe(true)
    }
    expect((await a.acquire(request(key))).granted).toBe(false)
    for (const store of [a, b]) {
      const holders = await store.holders(key)
      expect(holders.map((h) => h.owner).sort()).toEqual([...readers].sort())
      expect(holders.every((h) => h.mode === 'shared' && h.expiresInMs === undefined)).toBe(true)
    }
  })

  it('never lets a stale holder touch the next holder’s lock (exclusive and shared)', async () => {
    const stale = async (mode: 'exclusive' | 'shared') => {
      const key = uniqueKey(`stale-${mode}`)
      const first = owner('a')
      expect((await a.acquire(request(key, { owner: first, mode, ttlMs: 1000 }))).granted).toBe(true)
      await until(async () => (await b.acquire(request(key, { owner: next }))).granted, 'the first lock to expire', 5000)
      expect(await a.release(key, first)).toBe(false)
      expect(await a.extend(key, first, 30_000)).toBe(false)
      expect(await b.holders(key)).toEqual([{ owner: next, mode: 'exclusive' }])
      expect(await b.extend(key, next, 30_000)).toBe(true)
      expect(await b.release(key, next)).toBe(true)
    }
    const next = owner('b')
    await Promise.all([stale('exclusive'), stale('shared')])
  })

  it('hands out strictly increasing fencing tokens across clients and modes, below 2^53', async () => {
    const key = uniqueKey('fence')
    const tokens: number[] = []
    for (let i = 0; i < 6; i++) {
      const holder = owner()
      const store = i % 2 ? a : b
      const result = await store.acquire(request(key, { owner: holder, mode: i % 3 ? 'exclusive' : 'shared' }))
      if (!result.granted) throw new Error('not granted')
      tokens.push(result.fencingToken)
      await store.release(key, holder)
    }
    tokens.push((await a.steal({ key, owner: owner(), ttlMs: 30_000, clientId: 'c0' })).fencingToken)
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!)
    expect(tokens.every((token) => Number.isSafeInteger(token))).toBe(true)
    // Seeded from the clock in microsecond-ish units, so an evicted counter restarts higher.
    expect(tokens[0]).toBeGreaterThan((Date.now() - 60_000) * 1000)
  })

  it('restarts a counter deleted by hand above every earlier token', async () => {
    const key = uniqueKey('reseed')
    const holder = owner()
    const first = await a.acquire(request(key, { owner: holder }))
    await a.release(key, holder)
    // Push the counter ahead of its seed a little, as a busy lock would.
    for (let i = 0; i < 20; i++) {
      await a.acquire(request(key, { owner: holder }))
      await a.release(key, holder)
    }
    const before = await a.acquire(request(key, { owner: holder }))
    await a.release(key, holder)
    await rawDelete(lockKeys(key).fence)
    expect(await rawGet(lockKeys(key).fence)).toBeUndefined()
    const after = await b.acquire(request(key))
    if (!first.granted || !before.granted || !after.granted) throw new Error('not granted')
    expect(after.fencingToken).toBeGreaterThan(before.fencingToken)
  })

  it('takes over a shared record whose holders all died, and drops dead holders when another joins', async () => {
    const key = uniqueKey('dead-readers')
    const keys = lockKeys(key)
    const [dead, alive, joiner] = [owner(), owner(), owner()]
    for (const reader of [dead, alive]) expect((await a.acquire(request(key, { owner: reader, mode: 'shared' }))).granted).toBe(true)
    // A holder that crashed: its item expired, the record still lists it.
    await rawDelete(keys.holder(dead))
    expect((await a.holders(key)).map((h) => h.owner)).toEqual([alive])
    expect(await a.release(key, dead)).toBe(false)
    expect(await a.extend(key, dead, 30_000)).toBe(false)
    expect((await b.acquire(request(key, { owner: joiner, mode: 'shared' }))).granted).toBe(true)
    const record = decodeRecord((await rawGet(keys.lock))!.value, keys.lock)
    expect(record.mode === 'shared' && [...record.holders.keys()].sort()).toEqual([alive, joiner].sort())

    expect((await b.acquire(request(key))).granted).toBe(false)
    await rawDelete(keys.holder(alive))
    await rawDelete(keys.holder(joiner))
    const writer = owner()
    expect((await b.acquire(request(key, { owner: writer }))).granted).toBe(true)
    expect(await a.holders(key)).toEqual([{ owner: writer, mode: 'exclusive' }])
    expect(await a.extend(key, alive, 30_000)).toBe(false)
  })

  it('cleans up: the last shared release deletes the record, a refused reader leaves no item', async () => {
    const key = uniqueKey('cleanup')
    const keys = lockKeys(key)
    const [r1, r2] = [owner(), owner()]
    await a.acquire(request(key, { owner: r1, mode: 'shared' }))
    await b.acquire(request(key, { owner: r2, mode: 'shared' }))
    expect(await a.release(key, r1)).toBe(true)
    expect(await rawGet(keys.lock)).toBeDefined()
    expect(await b.release(key, r2)).toBe(true)
    expect(await rawGet(keys.lock)).toBeUndefined()
    await until(
      async () => (await rawGet(keys.holder(r1))) === undefined && (await rawGet(keys.holder(r2))) === undefined,
      'holder items removed',
    )

    const writer = owner()
    await a.acquire(request(key, { owner: writer }))
    const refused = owner()
    expect((await b.acquire(request(key, { owner: refused, mode: 'shared' }))).granted).toBe(false)
    await until(async () => (await rawGet(keys.holder(refused))) === undefined, 'the refused reader’s item removed')
  })

  it('force-releases both modes, saying whether anyone held the lock', async () => {
    const key = uniqueKey('force')
    const keys = lockKeys(key)
    const readers = [owner(), owner()]
    for (const reader of readers) await a.acquire(request(key, { owner: reader, mode: 'shared' }))
    expect(await b.forceRelease(key)).toBe(true)
    expect(await rawGet(keys.lock)).toBeUndefined()
    for (const reader of readers) expect(await rawGet(keys.holder(reader))).toBeUndefined()
    expect(await a.release(key, readers[0]!)).toBe(false)
    expect(await b.forceRelease(key)).toBe(false)

    // A record whose only holder died held nothing.
    const dead = owner()
    await a.acquire(request(key, { owner: dead, mode: 'shared' }))
    await rawDelete(keys.holder(dead))
    expect(await b.forceRelease(key)).toBe(false)
    expect(await rawGet(keys.lock)).toBeUndefined()
  })

  it('steals from shared holders on another client', async () => {
    const key = uniqueKey('steal')
    const reader = owner()
    const granted = await a.acquire(request(key, { owner: reader, mode: 'shared' }))
    const thief = owner()
    const stolen = await b.steal({ key, owner: thief, ttlMs: 30_000, clientId: 'c1' })
    expect(granted.granted && stolen.fencingToken > granted.fencingToken).toBe(true)
    expect(await a.extend(key, reader, 30_000)).toBe(false)
    expect(await a.holders(key)).toEqual([{ owner: thief, mode: 'exclusive' }])
  })

  it('locks long and odd names, each apart from the keys other names derive', async () => {
    const base = uniqueKey('odd')
    const names = [
      '',
      ' ',
      'a b',
      '\n',
      '\r\n\t',
      '\u0000',
      '\u007f',
      'x'.repeat(10_000),
      'ü'.repeat(300),
      '😀',
      '\uD800',
      '\uDC00',
      '\uFFFD',
      '~lock',
      '~fence',
      `~holder~${'0'.repeat(32)}`,
    ]
    const keys = names.map((name) => base + name)
    const holders = keys.map(() => owner())
    const first = await Promise.all(keys.map((key, i) => a.acquire(request(key, { owner: holders[i]! }))))
    expect(first.map((r) => r.granted)).toEqual(keys.map(() => true))
    const second = await Promise.all(keys.map((key) => b.acquire(request(key))))
    expect(second.map((r) => r.granted)).toEqual(keys.map(() => false))
    for (const [i, key] of keys.entries()) expect(await b.holders(key)).toEqual([{ owner: holders[i], mode: 'exclusive' }])
    expect(await Promise.all(keys.map((key, i) => a.release(key, holders[i]!)))).toEqual(keys.map(() => true))
  })

  it('rejects when a lock key holds something cachelock did not write', async () => {
    const key = uniqueKey('foreign')
    const keys = lockKeys(key)
    await raw[0]!.set(keys.lock, keys.lock, Buffer.from('not ours'), 30)
    const store = new MemcachedStore(appClient(`memcached://${url.slice('memcached://'.length).split(',')[0]}`))
    await expect(store.acquire(request(key))).rejects.toThrow(/does not hold a cachelock record/)
  })
})

describe('MemcachedStore on two servers', () => {
  it('keeps every item of a lock on the server of its lock key', async () => {
    const store = openStore(URL_TWO)
    const raw = rawServers(URL_TWO)
    const hash = (key: string) => memjs.Utils.hashCode(key) % 2
    // A holder whose item memjs's own hashing would put on the other server than the record (the
    // counter's suffix happens to keep it beside the record on two servers either way).
    const key = uniqueKey('placement')
    const keys = lockKeys(key)
    const reader = Array.from({ length: 64 }, () => owner()).find((o) => hash(keys.holder(o)) !== hash(keys.lock))!
    expect((await store.acquire(request(key, { owner: reader, mode: 'shared' }))).granted).toBe(true)
    const home = await serversHolding(raw, keys.lock)
    expect(home).toHaveLength(1)
    expect(await serversHolding(raw, keys.fence)).toEqual(home)
    expect(await serversHolding(raw, keys.holder(reader))).toEqual(home)
  })

  it('refuses something that is not a memjs client', () => {
    expect(() => new MemcachedStore({} as never)).toThrow(InvalidLockArgumentError)
    expect(() => new MemcachedStore(appClient(URL_TWO), { maxAttempts: 0 })).toThrow(/maxAttempts/)
  })

  it('accepts the app’s own memjs client and leaves it open on close()', async () => {
    const client = appClient(URL_TWO)
    const store = new MemcachedStore(client)
    const key = uniqueKey('app-client')
    const holder = owner()
    expect((await store.acquire(request(key, { owner: holder }))).granted).toBe(true)
    await store.close()
    expect(await store.release(key, holder)).toBe(true)
    expect(await client.set(`${key}:still-open`, 'yes', { expires: 5 })).toBe(true)
  })
})
