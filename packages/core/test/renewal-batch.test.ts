import { afterEach, describe, expect, test } from 'vitest'
import { createLockManager, type LockManager } from '../src/lock-manager.js'
import type { Renewal } from '../src/store.js'
import { MemoryStore } from '../src/stores/memory/memory-store.js'
import { Events } from './support/leases.js'

/** A memory store that renews in batches and counts its calls. */
class BatchingStore extends MemoryStore {
  batches: number[] = []
  singles = 0

  override extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
    this.singles++
    return super.extend(key, owner, ttlMs)
  }

  async extendMany(renewals: readonly Renewal[]): Promise<boolean[]> {
    this.batches.push(renewals.length)
    return Promise.all(renewals.map((r) => super.extend(r.key, r.owner, r.ttlMs)))
  }
}

const managers: LockManager[] = []
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()))
})

const until = async (predicate: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('renewals of one manager', () => {
  test('locks whose renewals fall due together are renewed in one store call', async () => {
    const store = new BatchingStore()
    const locks = createLockManager({ store, ttl: 300 })
    managers.push(locks)
    const handles = await Promise.all(Array.from({ length: 200 }, (_, i) => locks.acquire(`held:${i}`)))
    // Every lock renewed at least twice (every ttl/3, 100 ms).
    await until(() => store.batches.reduce((a, b) => a + b, 0) >= 400)
    // A lease whose window opened alone goes alone (one extend is the cheaper call); on a loaded
    // machine the burst's due times spread, so a few do. Without batching, every renewal would.
    expect(store.singles).toBeLessThan(20)
    // 200 locks taken in one burst fall due within a thirtieth of the ttl of each other, mostly.
    expect(store.batches.length).toBeLessThan(200)
    expect(Math.max(...store.batches)).toBeGreaterThan(20)
    expect(handles.every((h) => h.held)).toBe(true)
    await Promise.all(handles.map((h) => h.release()))
  })

  test('a store without extendMany is renewed one extend per lock, and the locks stay held', async () => {
    let extends_ = 0
    const store = new (class extends MemoryStore {
      override extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
        extends_++
        return super.extend(key, owner, ttlMs)
      }
    })()
    const locks = createLockManager({ store, ttl: 300 })
    managers.push(locks)
    const handles = await Promise.all(Array.from({ length: 20 }, (_, i) => locks.acquire(`plain:${i}`)))
    await until(() => extends_ >= 60)
    expect(handles.every((h) => h.held && !h.signal.aborted)).toBe(true)
    await Promise.all(handles.map((h) => h.release()))
  })

  test('locks released from the middle of the schedule leave every other lock renewed in time', async () => {
    const events = new Events('extended')
    const store = new MemoryStore()
    const locks = createLockManager({ store })
    managers.push(locks)
    try {
      // Spread ttls interleave their due times; releasing every other lock takes leases out of the
      // middle of the schedule, and the rest must still be renewed by their own due times.
      const handles = await Promise.all(Array.from({ length: 40 }, (_, i) => locks.acquire(`spread:${i}`, { ttl: 200 + 10 * i })))
      await Promise.all(handles.filter((_, i) => i % 2 === 1).map((handle) => handle.release()))
      const kept = handles.filter((_, i) => i % 2 === 0)
      await until(() => kept.every((handle) => events.on('extended', handle.name).length >= 4))
      for (const handle of kept) expect(await store.holders(locks.keyFor(handle.name))).toHaveLength(1)
      expect(kept.every((handle) => handle.held && !handle.signal.aborted)).toBe(true)
      await Promise.all(kept.map((handle) => handle.release()))
    } finally {
      events.stop()
    }
  })
})
