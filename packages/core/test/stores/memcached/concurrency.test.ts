import { afterAll, describe, expect, it } from 'vitest'
import { lockKeys } from '../../../src/stores/memcached/keys.js'
import { SETUPS, closeAll, openStore, owner, rawServers, request, uniqueKey } from './helpers.js'

afterAll(closeAll)

/**
 * Compare-and-swap under load: two clients (separate connections, like two app servers) hammer one
 * lock record at once. A lost update would show as a holder missing from, or left in, the record.
 */
describe.concurrent.each(SETUPS)('MemcachedStore under contention (%s)', (_label, url) => {
  const clients = [openStore(url), openStore(url)] as const
  const raw = rawServers(url)
  const client = (i: number) => clients[i % 2]!

  it('admits 50 concurrent shared joins from two clients, and loses none of them', async () => {
    const key = uniqueKey('joins')
    const readers = Array.from({ length: 50 }, (_, i) => owner(`c${i % 2}`))
    const results = await Promise.all(readers.map((reader, i) => client(i).acquire(request(key, { owner: reader, mode: 'shared' }))))
    expect(results.every((r) => r.granted)).toBe(true)
    const tokens = results.map((r) => (r.granted ? r.fencingToken : 0))
    expect(new Set(tokens).size).toBe(tokens.length)
    expect((await clients[0].holders(key)).map((h) => h.owner).sort()).toEqual([...readers].sort())

    // Half leave while the other half renew, all at once: no release is undone by a renewal's
    // rewrite, and no renewal is lost to a release's.
    const leaving = readers.filter((_, i) => i % 2 === 0)
    const staying = readers.filter((_, i) => i % 2 === 1)
    const [released, extended] = await Promise.all([
      Promise.all(leaving.map((reader, i) => client(i + 1).release(key, reader))),
      Promise.all(staying.map((reader, i) => client(i).extend(key, reader, 60_000))),
    ])
    expect(released.every(Boolean)).toBe(true)
    expect(extended.every(Boolean)).toBe(true)
    expect((await clients[1].holders(key)).map((h) => h.owner).sort()).toEqual([...staying].sort())

    expect((await Promise.all(staying.map((reader, i) => client(i).release(key, reader)))).every(Boolean)).toBe(true)
    expect(await clients[0].holders(key)).toEqual([])
    const keys = lockKeys(key)
    expect((await Promise.all(raw.map((server) => server.get(keys.lock, keys.lock)))).every((item) => item === undefined)).toBe(true)
  })

  it('grants exactly one of 40 exclusive requests from two clients, never beside a reader', async () => {
    const key = uniqueKey('mixed')
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => client(i).acquire(request(key, { mode: i % 4 === 0 ? 'exclusive' : 'shared' }))),
    )
    const holders = await clients[0].holders(key)
    expect(holders).toHaveLength(results.filter((r) => r.granted).length)
    expect(new Set(holders.map((h) => h.mode)).size).toBe(1)
    if (holders[0]?.mode === 'exclusive') expect(holders).toHaveLength(1)

    const writers = Array.from({ length: 40 }, () => owner())
    const key2 = uniqueKey('writers')
    const granted = await Promise.all(writers.map((writer, i) => client(i).acquire(request(key2, { owner: writer }))))
    expect(granted.filter((r) => r.granted)).toHaveLength(1)
  })

  it('settles a release racing its own renewal as released, in both modes', async () => {
    for (const mode of ['exclusive', 'shared'] as const) {
      const key = uniqueKey(`race-${mode}`)
      for (let round = 0; round < 15; round++) {
        const holder = owner()
        const bystander = owner()
        if (mode === 'shared') await clients[1].acquire(request(key, { owner: bystander, mode }))
        expect((await clients[0].acquire(request(key, { owner: holder, mode }))).granted).toBe(true)
        const [, released] = await Promise.all([client(round).extend(key, holder, 60_000), client(round + 1).release(key, holder)])
        expect(released).toBe(true)
        expect((await clients[0].holders(key)).map((h) => h.owner)).not.toContain(holder)
        if (mode === 'shared') await clients[1].release(key, bystander)
      }
    }
  })
})
