import { afterEach, describe, expect, it, vi } from 'vitest'
import { MemoryStore, createLockManager } from '@cachelock/core'
import { lockStoreContract, request } from '@cachelock/core/testing'
import { storedNames } from '../../src/stores/memory/memory-store.js'

lockStoreContract({ describe, it }, 'MemoryStore', () => new MemoryStore())

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
    expect(storedNames(store)).toBe(5001)
    now = 100
    // Two sweep periods of operations on another name: none of the expired names is asked about
    // again, so only the amortized sweep can drop them. The live lock must survive it.
    for (let i = 0; i < 2048; i++) await store.holders('other')
    expect(storedNames(store)).toBe(1)
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
