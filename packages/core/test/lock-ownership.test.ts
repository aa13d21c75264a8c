import { describe, expect, it } from 'vitest'
import { LockLostError, LockNotOwnedError, MemoryStore, createLockManager } from '@cachelock/core'

/** What a lock no longer held says about itself: ensureHeld(), release() and disposal after a release or a loss. */
describe('a lock after it stopped being held', () => {
  it('ensureHeld() on a lost lock rejects with the loss itself, not as if released', async () => {
    const locks = createLockManager({ store: new MemoryStore() })
    const handle = await locks.acquire('x')
    await locks.forceRelease('x')
    const error = await handle.ensureHeld().catch((e: unknown) => e)
    expect(error).toBe(handle.signal.reason)
    expect((error as LockLostError).reason).toBe('force-released')
  })

  it('ensureHeld() on a released lock rejects with LockLostError saying it was released, without asking the store', async () => {
    const store = new MemoryStore()
    const locks = createLockManager({ store })
    const handle = await locks.acquire('x')
    await handle.release()
    // Another holder now: a store check by the released lock must not be what answers.
    const next = await locks.acquire('x')
    const error = (await handle.ensureHeld().catch((e: unknown) => e)) as LockLostError
    expect(error).toBeInstanceOf(LockLostError)
    expect(error.reason).toBe('expired')
    expect(error.message).toBe('Lock "x" was already released')
    expect(next.held).toBe(true)
    await next.release()
  })

  it('release() of a lost lock: LockNotOwnedError whose cause is the loss; of a released one: no cause', async () => {
    const locks = createLockManager({ store: new MemoryStore() })
    const lost = await locks.acquire('lost')
    await locks.forceRelease('lost')
    const afterLoss = (await lost.release().catch((e: unknown) => e)) as LockNotOwnedError
    expect(afterLoss).toBeInstanceOf(LockNotOwnedError)
    expect(afterLoss.cause).toBe(lost.signal.reason)

    const released = await locks.acquire('released')
    await released.release()
    const again = (await released.release().catch((e: unknown) => e)) as LockNotOwnedError
    expect(again).toBeInstanceOf(LockNotOwnedError)
    expect(Object.hasOwn(again, 'cause')).toBe(false)
  })

  it('disposing a handle released already does nothing (no LockNotOwnedError)', async () => {
    const locks = createLockManager({ store: new MemoryStore() })
    const handle = await locks.acquire('x')
    await handle.release()
    await expect(handle[Symbol.asyncDispose]()).resolves.toBeUndefined()
  })
})
