import { afterAll, describe, expect, it } from 'vitest'
import { InvalidLockArgumentError } from '../../../src/errors.js'
import { MAX_RELATIVE_EXPTIME, exptime, ttlSeconds } from '../../../src/stores/memcached/expiry.js'
import { lockKeys } from '../../../src/stores/memcached/keys.js'
import { URL_ONE, closeAll, openStore, owner, rawServers, request, sleep, uniqueKey, until } from './helpers.js'

afterAll(closeAll)

describe('memcached ttls', () => {
  it('round up to whole seconds, plus two for memcached’s once-a-second clock and its skips', () => {
    expect([1, 999, 1000, 1001, 1500, 2000, 2001, 30_000].map(ttlSeconds)).toEqual([3, 3, 3, 4, 4, 4, 5, 32])
  })

  it('outlive their ttl on a model of memcached’s clock, across the seconds it skips', () => {
    // memcached 1.6's clock: a timer sets `current_time` to its monotonic seconds, rounded down,
    // and re-arms itself one second after it fired. Each firing comes a little late, so the ticks
    // drift and, where they cross a second's boundary, the clock skips a value. An item stored with
    // relative expiry N gets `current_time + N` and is gone at the first tick whose `current_time`
    // reaches it. Storing just before a tick is the worst case of each interval.
    const ticksLate = (firstS: number, count: number, lateS: (k: number) => number) => {
      const ticks = [firstS]
      for (let k = 1; k < count; k++) ticks.push(ticks[k - 1]! + 1 + lateS(k))
      return ticks
    }
    const shortestLife = (seconds: number, ticks: number[]) => {
      let shortest = Number.POSITIVE_INFINITY
      for (let k = 0; k + seconds + 3 < ticks.length; k++) {
        const expiry = Math.floor(ticks[k]!) + seconds
        const storedAt = ticks[k + 1]! - 1e-6
        let gone = k + 1
        while (Math.floor(ticks[gone]!) < expiry) gone++
        shortest = Math.min(shortest, ticks[gone]! - storedAt)
      }
      return shortest
    }
    const clocks: Array<[string, number[]]> = []
    for (const firstS of [0, 0.25, 0.5, 0.75, 0.999]) {
      // Every tick late by as much as a busy server makes it (measured here: about 1 ms); enough
      // ticks for the drift to cross a second's boundary at least once.
      for (const lateS of [0.0002, 0.001, 0.005, 0.02, 0.05])
        clocks.push([`every tick ${lateS} s late`, ticksLate(firstS, Math.ceil(2 / lateS) + 40, () => lateS)])
      // One tick in 40 late by up to 0.9 s (a stall of the server), the others 1 ms.
      for (const spikeS of [0.3, 0.6, 0.9])
        clocks.push([`a tick in 40 ${spikeS} s late`, ticksLate(firstS, 4000, (k) => (k % 40 === 0 ? spikeS : 0.001))])
    }
    const tooShort: string[] = []
    for (const ttlMs of [1, 999, 1000, 1001, 1400, 2000, 10_000, 30_000])
      for (const [label, ticks] of clocks) {
        const lifeMs = shortestLife(ttlSeconds(ttlMs), ticks) * 1000
        if (lifeMs < ttlMs) tooShort.push(`ttl ${ttlMs} ms, ${label}: ${lifeMs.toFixed(0)} ms`)
      }
    expect(tooShort).toEqual([])
    // The model is not vacuous: one second more (the old margin) can live no time at all.
    expect(
      shortestLife(
        Math.ceil(1000 / 1000) + 1,
        ticksLate(0.5, 2100, () => 0.001),
      ),
    ).toBeLessThan(0.01)
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

  it('keeps a lock at least its ttl and drops it within about two seconds more', async () => {
    const store = openStore(URL_ONE)
    const key = uniqueKey('lifetime')
    const sent = performance.now()
    expect((await store.acquire(request(key, { ttlMs: 1000 }))).granted).toBe(true)
    await sleep(1000 - (performance.now() - sent) + 10)
    expect(await store.holders(key)).toHaveLength(1)
    await until(async () => (await store.holders(key)).length === 0, 'the lock to expire', 2500)
    expect(performance.now() - sent).toBeLessThan(3200)
  })

  it('keeps a lock of 1400 ms at least 1400 ms, wherever in memcached’s second it was taken', async () => {
    // On the real server, at every phase of its once-a-second tick: ten locks taken 100 ms apart.
    // (Without the margin, 2 s sent lives between 1 and 2 s: too short in about 40 % of the second.
    // Rounding down is caught only around a skip of the clock, which the model test above covers.)
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
