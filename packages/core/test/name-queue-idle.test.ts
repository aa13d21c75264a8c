import { describe, expect, it, vi } from 'vitest'
import { createLockManager } from '@cachelock/core'
import { FlakyStore } from './helpers.js'

/**
 * A manager keeps a queue per name only while the name has something pending, held or out: a
 * forgotten queue costs nothing, and a queue forgotten too early loses its holders and waiters
 * (`query()` no longer reports them, `forceRelease()` no longer aborts their signal). `query()`
 * reads the store once per name it keeps, which is how these tests see which names it keeps.
 */

const acquireCalls = (store: FlakyStore) => store.calls.filter((call) => call === 'acquire').length
const holdersCalls = (store: FlakyStore) => store.calls.filter((call) => call === 'holders').length

describe('a name is kept exactly while something needs it', () => {
  it('is forgotten once its lock is released', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store })
    await locks.withLock('order:1', () => 'done')
    expect(await locks.query()).toEqual({ held: [], pending: [] })
    expect(holdersCalls(store)).toBe(0)
  })

  it('is forgotten once its only waiting request gave up', async () => {
    const store = new FlakyStore()
    const holder = createLockManager({ store })
    const held = await holder.acquire('order:1')
    const locks = createLockManager({ store, sleep: 10 })
    await expect(locks.acquire('order:1', { timeout: 50 })).rejects.toMatchObject({ code: 'LOCK_NOT_ACQUIRED' })
    // Its last attempt may still be out when it gives up; once answered, nothing is left.
    await vi.waitFor(async () => {
      const before = holdersCalls(store)
      expect(await locks.query()).toEqual({ held: [], pending: [] })
      expect(holdersCalls(store)).toBe(before)
    })
    await held.release()
  })

  it('is kept while held: forceRelease() aborts the local holder at once', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store })
    const handle = await locks.acquire('order:1')
    expect((await locks.query()).held).toHaveLength(1)
    expect(await locks.forceRelease('order:1')).toBe(true)
    expect(handle.signal.aborted).toBe(true)
  })

  it('is kept while a request waits, also after a steal of the name failed', async () => {
    const store = new FlakyStore()
    const holder = createLockManager({ store })
    const held = await holder.acquire('order:1')
    // A long poll: the waiter pauses (nothing out) when the steal fails.
    const locks = createLockManager({ store, sleep: 60_000 })
    const waiting = locks.acquire('order:1', { timeout: 30_000 })
    await vi.waitFor(async () => expect((await holder.query()).pending).toHaveLength(1))
    store.failing.add('steal')
    await expect(locks.acquire('order:1', { steal: true })).rejects.toMatchObject({ code: 'LOCK_STORE_ERROR' })
    store.failing.clear()
    expect((await locks.query()).pending).toEqual([{ name: 'order:1', mode: 'exclusive', clientId: locks.clientId }])
    // And the holder's release still reaches it.
    await held.release()
    await (await waiting).release()
  })

  it('requests that join during the pause wait for it, and a release wakes them all', async () => {
    const store = new FlakyStore()
    const holder = createLockManager({ store })
    const held = await holder.acquire('order:1', { mode: 'exclusive' })
    const locks = createLockManager({ store, sleep: 60_000 })
    const first = locks.acquire('order:1', { mode: 'shared', timeout: 10_000 })
    // Refused, and refused again once the wake-up subscription is active: then it pauses.
    await vi.waitFor(() => expect(acquireCalls(store)).toBe(3))
    await new Promise((resolve) => setImmediate(resolve))
    const second = locks.acquire('order:1', { mode: 'shared', timeout: 10_000 })
    // Asked for with the next round, not now: the store just refused this name.
    expect(acquireCalls(store)).toBe(3)
    await held.release()
    const [a, b] = await Promise.all([first, second])
    expect([a.mode, b.mode]).toEqual(['shared', 'shared'])
    await Promise.all([a.release(), b.release()])
  })
})
