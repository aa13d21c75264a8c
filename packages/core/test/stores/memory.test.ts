import { afterEach, describe, expect, it, vi } from 'vitest'
import { MemoryStore, createLockManager } from '@cachelock/core'
import { lockStoreContract, request } from '@cachelock/core/testing'
import { storedNames } from '../../src/stores/memory/memory-store.js'

lockStoreContract({ describe, it }, 'MemoryStore', () => new MemoryStore(), { list: true, waiters: true })

describe('MemoryStore', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('works under fake timers with an injected clock', async () => {
    vi.useFakeTimers()
    const store = new MemoryStore({ now: () => Date.now() })
    expect((await store.acquire(request('k', 'a', 'exclusive', 1000))).granted).toBe(true)
    expect((await store.acquire(request('k', 'b', 'exclusive', 1000))).granted).toBe(false)
    vi.advanceTimersByTime(1001)
    expect((await store.acquire(request('k', 'b', 'exclusive', 1000))).granted).toBe(true)
  })

  it('forgets released and expired names (no growth per name)', async () => {
    let now = 0
    const store = new MemoryStore({ now: () => now })
    for (let i = 0; i < 5000; i++) await store.acquire(request(`name:${i}`, 'a', 'exclusive', 10))
    await store.acquire(request('kept', 'a', 'exclusive', 1_000_000))
    const released = request('released', 'a', 'exclusive', 1_000_000)
    await store.acquire(released)
    await store.release('released', released.owner)
    expect(storedNames(store).locks).toBe(5001)
    now = 100
    // Two sweep periods of operations on another name: none of the expired names is asked about
    // again, so only the amortized sweep can drop them. The live lock must survive it.
    for (let i = 0; i < 2048; i++) await store.holders('other')
    expect(storedNames(store).locks).toBe(1)
    expect(await store.holders('kept')).toEqual([{ owner: 'a', mode: 'exclusive', expiresInMs: 1_000_000 - 100 }])
  })

  it('lets managers sharing one store wake each other on release', async () => {
    const store = new MemoryStore()
    const a = createLockManager({ store, sleep: 60_000 })
    const b = createLockManager({ store, sleep: 60_000 })
    const handle = await a.acquire('handoff')
    const waiting = b.withLock('handoff', () => 'got it')
    await new Promise((resolve) => setTimeout(resolve, 20))
    const released = performance.now()
    await handle.release()
    expect(await waiting).toBe('got it')
    // With a 60 s poll, only the release wake-up can grant this quickly.
    expect(performance.now() - released).toBeLessThan(5_000)
  })
})

describe('MemoryStore, exactly (an injected clock)', () => {
  function clocked() {
    const clock = { now: 0 }
    return { clock, store: new MemoryStore({ now: () => clock.now }) }
  }
  const flush = () => new Promise((resolve) => setTimeout(resolve, 0))

  it('expires by its own default clock', async () => {
    const store = new MemoryStore()
    expect((await store.acquire(request('k', 'a', 'exclusive', 20))).granted).toBe(true)
    const deadline = performance.now() + 5000
    while ((await store.holders('k')).length > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    expect(await store.holders('k')).toEqual([])
  })

  it('frees a lock exactly when its ttl has passed, in both modes', async () => {
    for (const mode of ['exclusive', 'shared'] as const) {
      const { clock, store } = clocked()
      await store.acquire(request('k', 'a', mode, 1000))
      clock.now = 999
      expect(await store.holders('k')).toHaveLength(1)
      clock.now = 1000
      expect(await store.holders('k')).toEqual([])
      expect(await store.extend('k', 'a', 1000)).toBe(false)
    }
  })

  it('says how long the holder has left, and each shared holder’s remaining ttl', async () => {
    const { clock, store } = clocked()
    await store.acquire(request('x', 'a', 'exclusive', 1000))
    clock.now = 400
    expect(await store.acquire(request('x', 'b', 'exclusive', 1000))).toEqual({ granted: false, retryInMs: 600 })
    expect(await store.acquire(request('x', 'b', 'shared', 1000))).toEqual({ granted: false, retryInMs: 600 })
    await store.acquire(request('s', 'r1', 'shared', 1000))
    await store.acquire(request('s', 'r2', 'shared', 3000))
    clock.now = 900
    expect(await store.holders('s')).toEqual([
      { owner: 'r1', mode: 'shared', expiresInMs: 500 },
      { owner: 'r2', mode: 'shared', expiresInMs: 2500 },
    ])
  })

  it('answers false to extending a name nobody holds', async () => {
    const { store } = clocked()
    expect(await store.extend('never', 'a', 1000)).toBe(false)
    await store.acquire(request('k', 'a', 'shared', 1000))
    expect(await store.extend('k', 'b', 1000)).toBe(false)
  })

  it('wakes every subscriber of a name, and only when a hold ended', async () => {
    const { store } = clocked()
    const calls = { a: 0, b: 0 }
    const stopA = store.onRelease('k', () => calls.a++)
    const stopB = store.onRelease('k', () => calls.b++)
    await flush() // the "subscription is active" wake-up
    expect(calls).toEqual({ a: 1, b: 1 })
    expect(await store.forceRelease('k')).toBe(false)
    expect(calls).toEqual({ a: 1, b: 1 })
    await store.acquire(request('k', 'a', 'exclusive', 1000))
    expect(await store.forceRelease('k')).toBe(true)
    expect(calls).toEqual({ a: 2, b: 2 })
    stopA()
    stopA() // twice: must not drop the others
    await store.acquire(request('k', 'a', 'exclusive', 1000))
    await store.release('k', 'a')
    expect(calls).toEqual({ a: 2, b: 3 })
    stopB()
    expect(storedNames(store).listened).toBe(0)
  })

  it('keeps a new subscriber when an old one unsubscribes again after its set was dropped', async () => {
    const { store } = clocked()
    const stopOld = store.onRelease('k', () => undefined)
    stopOld()
    let woken = 0
    const stopNew = store.onRelease('k', () => woken++)
    await flush()
    stopOld()
    await store.acquire(request('k', 'a', 'exclusive', 1000))
    await store.release('k', 'a')
    expect(woken).toBe(2)
    stopNew()
    expect(storedNames(store).listened).toBe(0)
  })
})
