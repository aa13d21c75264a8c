import { afterAll, describe, expect, it } from 'vitest'
import { InvalidLockArgumentError } from '../../../src/errors.js'
import { MAX_RELATIVE_EXPTIME, exptime, ttlSeconds } from '../../../src/stores/memcached/expiry.js'
import { lockKeys } from '../../../src/stores/memcached/keys.js'
import { URL_ONE, closeAll, openStore, owner, rawServers, request, sleep, uniqueKey, until } from './helpers.js'

afterAll(closeAll)

describe('memcached ttls', () => {
  it('round up to whole seconds, plus one for memcached’s once-a-second clock', () => {
    expect([1, 999, 1000, 1001, 1500, 2000, 2001, 30_000].map(ttlSeconds)).toEqual([2, 2, 2, 3, 3, 3, 4, 31])
  })

  it('refuses ttls that are not positive finite milliseconds', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '1000' as unknown as number]) {
      expect(() => ttlSeconds(bad)).toThrow(InvalidLockArgumentError)
    }
  })

  it('sends up to 30 days as seconds and longer ones as an absolute Unix time', () => {
    const now = Date.UTC(2026, 10, 23, 12, 0, 0, 500)
    expect(exptime(MAX_RELATIVE_EXPTIME, now)).toBe(2_592_000)
    expect(exptime(MAX_RELATIVE_EXPTIME + 1, now)).toBe(Math.floor(now / 1000) + 2_592_001)
    expect(ttlSeconds(31 * 86_400_000)).toBeGreaterThan(MAX_RELATIVE_EXPTIME)
  })

  it('keeps a lock with a ttl beyond 30 days (sent as a relative ttl, memcached would drop it at once)', async () => {
    const store = openStore(URL_ONE)
    const [server] = rawServers(URL_ONE)
    const key = uniqueKey('month')
    const holder = owner()
    expect((await store.acquire(request(key, { owner: holder, ttlMs: 31 * 86_400_000 }))).granted).toBe(true)
    expect(await store.holders(key)).toEqual([{ owner: holder, mode: 'exclusive' }])
    expect(await store.extend(key, holder, 40 * 86_400_000)).toBe(true)
    expect(await store.holders(key)).toHaveLength(1)
    // The counter-check: the same seconds sent as they are mean a moment in 1970.
    const probe = `${lockKeys(key).lock}:probe`
    await server!.set(probe, probe, Buffer.from('x'), ttlSeconds(31 * 86_400_000))
    expect(await server!.get(probe, probe)).toBeUndefined()
  })

  it('keeps a lock at least its ttl and drops it within about a second more', async () => {
    const store = openStore(URL_ONE)
    const key = uniqueKey('lifetime')
    const sent = performance.now()
    expect((await store.acquire(request(key, { ttlMs: 1000 }))).granted).toBe(true)
    await sleep(1000 - (performance.now() - sent) + 10)
    expect(await store.holders(key)).toHaveLength(1)
    await until(async () => (await store.holders(key)).length === 0, 'the lock to expire', 1500)
    expect(performance.now() - sent).toBeLessThan(2200)
  })

  it('keeps a lock of 1400 ms at least 1400 ms, wherever in memcached’s second it was taken', async () => {
    // 1400 ms is where rounding up (3 s sent) and rounding down or to nearest (2 s sent) disagree.
    // 2 s sent lives between 1 and 2 s, depending on where in memcached's once-a-second tick it
    // was stored: too short in about 40 % of that second. Ten locks taken 100 ms apart cover it.
    const store = openStore(URL_ONE)
    const ttlMs = 1400
    const lives = async (index: number) => {
      await sleep(index * 100)
      const key = uniqueKey(`lifetime-${ttlMs}-${index}`)
      const sent = performance.now()
      expect((await store.acquire(request(key, { ttlMs }))).granted).toBe(true)
      await sleep(ttlMs - (performance.now() - sent) + 10)
      const goneAtTtl = (await store.holders(key)).length === 0
      await until(async () => (await store.holders(key)).length === 0, 'the lock to expire', 5000)
      return goneAtTtl ? [`lock ${index}`] : []
    }
    const goneEarly = (await Promise.all(Array.from({ length: 10 }, (_, index) => lives(index)))).flat()
    expect(goneEarly, 'locks gone before their ttl').toEqual([])
  })
})
