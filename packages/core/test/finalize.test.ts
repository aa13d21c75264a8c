import diagnostics from 'node:diagnostics_channel'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { MemoryStore, channelNames, createLockManager, type LockManager } from '@cachelock/core'
import { sleep } from './helpers.js'

// The same as running under --expose-gc, without needing the flag on the test runner.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

// WeakRef.deref() keeps its target alive until the current job ends, so collect in a later job
// than the one that last looked.
async function collect(until: () => boolean | Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    await sleep(5)
    gc()
    await sleep(5)
    if (await until()) return true
  }
  return false
}

// Acquire in a separate frame so no local variable keeps the handle reachable.
async function acquireAndDrop(locks: LockManager, name: string, options = {}): Promise<WeakRef<object>> {
  const handle = await locks.acquire(name, options)
  return new WeakRef(handle)
}

describe('release on finalize', () => {
  it('nothing the library keeps holds a handle: it is collected while its lock is renewed and waited on', async () => {
    const locks = createLockManager({ ttl: 30 })
    const ref = await acquireAndDrop(locks, 'weak')
    const waiter = locks.withLock('weak', () => 'waited') // a queued waiter must not pin the handle either
    await sleep(40) // a few renewals have run
    expect(await collect(() => ref.deref() === undefined)).toBe(true)
    expect(await waiter).toBe('waited')
  })

  it('releases the lock of a dropped handle and publishes cachelock:finalized', async () => {
    const events: unknown[] = []
    const listener = (event: unknown) => events.push(event)
    diagnostics.subscribe(channelNames.finalized, listener)
    try {
      const store = new MemoryStore()
      const locks = createLockManager({ store, ttl: 60_000 })
      await acquireAndDrop(locks, 'dropped')
      expect(await locks.isLocked('dropped')).toBe(true)
      expect(await collect(async () => !(await locks.isLocked('dropped')))).toBe(true)
      await sleep(5)
      expect(events).toEqual([expect.objectContaining({ name: 'dropped', key: 'lock:dropped', mode: 'exclusive' })])
    } finally {
      diagnostics.unsubscribe(channelNames.finalized, listener)
    }
  })

  it('keeps the lock of a dropped handle when releaseOnFinalize is off', async () => {
    const locks = createLockManager({ ttl: 60_000, releaseOnFinalize: false })
    const ref = await acquireAndDrop(locks, 'kept')
    expect(await collect(() => ref.deref() === undefined)).toBe(true)
    await sleep(20)
    expect(await locks.isLocked('kept')).toBe(true)
    await locks.forceRelease('kept')
  })
})
