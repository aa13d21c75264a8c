import { describe, expect, it } from 'vitest'
import { MemoryStore } from '@cachelock/core'
import { request } from '@cachelock/core/testing'
import { storedNames } from '../../src/stores/memory/memory-store.js'

// The memory store's waiter list (what `query()` shows of other managers' pending requests), on an
// injected clock: how long a manager that stopped asking stays listed, and that the names of
// forgotten waiters are not kept.

/** A refused attempt of `clientId` that will wait (not `once`), polling every `pollMs`. */
function waitingRequest(key: string, clientId: string, pollMs: number) {
  return { ...request(key, `${clientId}:owner`, 'exclusive', 1000), clientId, waiting: true, pollMs }
}

describe('MemoryStore waiters', () => {
  it('lists a manager until two of its polls and 100 ms have passed since its last refused attempt', async () => {
    let now = 0
    const store = new MemoryStore({ now: () => now })
    await store.acquire(request('k', 'holder', 'exclusive', 1_000_000))
    expect((await store.acquire(waitingRequest('k', 'm2', 500))).granted).toBe(false)

    // 2 × 500 + 100 = 1100 ms: listed for all of it, forgotten at its end.
    now = 1099
    expect(await store.waiters('k')).toEqual([{ clientId: 'm2', mode: 'exclusive' }])
    now = 1100
    expect(await store.waiters('k')).toEqual([])

    // Asking again renews the entry from that attempt on.
    expect((await store.acquire(waitingRequest('k', 'm2', 500))).granted).toBe(false)
    now = 2199
    expect(await store.waiters('k')).toEqual([{ clientId: 'm2', mode: 'exclusive' }])
  })

  it('keeps nothing for the names of waiters that stopped asking, without being asked about them again', async () => {
    let now = 0
    const store = new MemoryStore({ now: () => now })
    for (let i = 0; i < 10; i++) {
      await store.acquire(request(`name:${i}`, 'holder', 'exclusive', 1_000_000))
      expect((await store.acquire(waitingRequest(`name:${i}`, 'm2', 100))).granted).toBe(false)
    }
    expect(storedNames(store).waited).toBe(10)
    now = 1000
    // Two sweep periods of operations on another name: only the amortized sweep can drop them.
    for (let i = 0; i < 2048; i++) await store.holders('other')
    expect(storedNames(store).waited).toBe(0)
    // The holders were not touched by it.
    expect(storedNames(store).locks).toBe(10)
  })

  it('drops a name whose only waiter lapsed when it is asked about', async () => {
    let now = 0
    const store = new MemoryStore({ now: () => now })
    await store.acquire(request('k', 'holder', 'exclusive', 1_000_000))
    await store.acquire(waitingRequest('k', 'm2', 100))
    now = 300
    expect(await store.waiters('k')).toEqual([])
    expect(storedNames(store).waited).toBe(0)
  })
})
