import { afterAll, describe, expect, it } from 'vitest'
import { lockKeys } from '../../../src/stores/memcached/keys.js'
import { InvalidLockArgumentError } from '../../../src/errors.js'
import { URL_ONE, closeAll, openStore, owner, rawServers, request, uniqueKey } from './helpers.js'

// The edges of a grant on memcached: the fencing counter's last safe integer, a lock that is not
// there, a crashed shared holder's record, a ttl that is no ttl.

afterAll(closeAll)

describe('MemcachedStore grants at the edges', () => {
  const store = openStore(URL_ONE)
  const [raw] = rawServers(URL_ONE)

  it('hands out 2^53 - 1 as a fencing token, and refuses to hand out more', async () => {
    const key = uniqueKey('fence-limit')
    const keys = lockKeys(key)
    await raw!.set(keys.lock, keys.fence, Buffer.from(String(Number.MAX_SAFE_INTEGER - 1)), 60)
    const holder = owner()
    expect(await store.acquire(request(key, { owner: holder }))).toEqual({ granted: true, fencingToken: Number.MAX_SAFE_INTEGER })
    expect(await store.release(key, holder)).toBe(true)
    await expect(store.acquire(request(key))).rejects.toThrow(`memcached fencing counter ${JSON.stringify(keys.fence)} passed 2^53 - 1`)
  })

  it('releases and extends nothing where no lock is', async () => {
    const key = uniqueKey('nothing')
    expect(await store.release(key, owner())).toBe(false)
    expect(await store.extend(key, owner(), 30_000)).toBe(false)
    expect(await store.forceRelease(key)).toBe(false)
  })

  it('takes an exclusive lock over a shared record whose holders all crashed', async () => {
    const key = uniqueKey('crashed-readers')
    const keys = lockKeys(key)
    const reader = owner()
    const shared = await store.acquire(request(key, { owner: reader, mode: 'shared' }))
    if (!shared.granted) throw new Error('not granted')
    await raw!.delete(keys.lock, keys.holder(reader))
    const writer = owner()
    const taken = await store.acquire(request(key, { owner: writer }))
    expect(taken).toEqual({ granted: true, fencingToken: expect.any(Number) })
    expect((taken as { fencingToken: number }).fencingToken).toBeGreaterThan(shared.fencingToken)
    expect(await store.holders(key)).toEqual([{ owner: writer, mode: 'exclusive' }])
  })

  it('refuses a ttl that is no positive number of milliseconds, naming it', async () => {
    for (const ttlMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '1000' as never]) {
      const refused = store.acquire(request(uniqueKey('ttl'), { ttlMs }))
      await expect(refused).rejects.toThrow(InvalidLockArgumentError)
      await expect(store.acquire(request(uniqueKey('ttl'), { ttlMs }))).rejects.toThrow(/ttlMs.*a finite number of milliseconds > 0/)
    }
  })
})
