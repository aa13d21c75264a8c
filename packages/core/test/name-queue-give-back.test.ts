import { describe, expect, it, vi } from 'vitest'
import { createLockManager, LockError, MemoryStore, type AcquireRequest, type AcquireResult } from '@cachelock/core'

/**
 * A store call can fail after the store acted: the reply is lost with the connection after the
 * script ran, or the store errs after the write that took the lock. The attempt's caller never
 * learns of that grant, so the queue gives the attempt's owner back (the stores' own tests show it
 * on real servers: a Redis reply cut by a proxy, memcached's fencing counter that cannot be made).
 */
class LostReplyStore extends MemoryStore {
  /** Fail the next acquire calls after the memory store answered them. */
  losing = true

  override async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const result = await super.acquire(request)
    if (this.losing) throw new Error('connection lost before the reply')
    return result
  }
}

describe('a failed acquire attempt', () => {
  it('gives back the grant its caller never learned of: the lock is free long before its ttl', async () => {
    const store = new LostReplyStore()
    const locks = createLockManager({ store })
    const error = await locks.acquire('job', { ttl: 60_000 }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(LockError)
    expect(error).toMatchObject({ code: 'LOCK_STORE_ERROR', cause: { message: 'connection lost before the reply' } })
    store.losing = false
    const other = createLockManager({ store })
    await vi.waitFor(async () => expect(await other.isLocked('job')).toBe(false), { timeout: 2000, interval: 5 })
    const handle = await other.tryAcquire('job')
    expect(handle).not.toBeNull()
    await handle!.release()
  })

  it('still fails its callers with a LockError when the store throws rather than rejects, release too', async () => {
    const store = new MemoryStore()
    for (const method of ['acquire', 'release'] as const) {
      Object.defineProperty(store, method, {
        value: () => {
          throw new Error(`${method} threw`)
        },
      })
    }
    const locks = createLockManager({ store })
    for (let i = 0; i < 2; i++) {
      const error = await locks.acquire('job').catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(LockError)
      expect(error).toMatchObject({ code: 'LOCK_STORE_ERROR', cause: { message: 'acquire threw' } })
    }
  })
})
