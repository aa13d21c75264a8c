import assert from 'node:assert/strict'
import { LockLostError, createLockManager } from '@cachelock/core'
import { sleep, type ContractContext } from './context.js'

/** The store seen through two `LockManager`s, the way apps use it. */
export function managerContract({ api, store, key, ttl }: ContractContext): void {
  const { it } = api

  it('excludes across two managers: concurrent read-modify-writes come out exact', async () => {
    const a = createLockManager({ store: store(), sleep: 10 })
    const b = createLockManager({ store: store(), sleep: 10 })
    const name = key('counter')
    let counter = 0
    let inside = 0
    let overlaps = 0
    const work = (manager: typeof a) =>
      manager.withLock(name, async () => {
        if (++inside > 1) overlaps++
        const read = counter
        await sleep(Math.random() * 3)
        counter = read + 1
        inside--
      })
    await Promise.all(Array.from({ length: 40 }, (_, i) => work(i % 2 ? a : b)))
    assert.equal(overlaps, 0)
    assert.equal(counter, 40)
  })

  it('keeps a lock past its ttl while auto-extending, and signals loss when it is taken over', async () => {
    const a = createLockManager({ store: store(), sleep: 10, ttl: ttl * 3 })
    const b = createLockManager({ store: store(), sleep: 10 })
    const name = key('renew')
    const handle = await a.acquire(name)
    await sleep(ttl * 5)
    assert.equal(handle.signal.aborted, false)
    assert.equal(await b.tryAcquire(name), null)
    await b.forceRelease(name)
    // The renewal can notice within the same round trip as forceRelease: the signal may already be aborted.
    const lost = handle.signal.aborted
      ? Promise.resolve(handle.signal.reason)
      : new Promise((resolve) => handle.signal.addEventListener('abort', () => resolve(handle.signal.reason)))
    assert.ok((await lost) instanceof LockLostError)
    assert.equal(handle.held, false)
  }, 30_000)

  it('reports the lock through isLocked and query on another manager', async () => {
    const a = createLockManager({ store: store() })
    const b = createLockManager({ store: store() })
    const name = key('query')
    await a.withLock(name, async () => {
      assert.equal(await b.isLocked(name), true)
    })
    assert.equal(await b.isLocked(name), false)
  })
}
