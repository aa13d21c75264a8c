import { AsyncResource } from 'node:async_hooks'
import { describe, expect, it } from 'vitest'
import { InvalidLockArgumentError, LockLostError, LockNotOwnedError, LockOrderError, MemoryStore, createLockManager } from '@cachelock/core'
import { heldRecordLock, recordLockHandle, runInRecordLock, withRecordLocks } from '@cachelock/core/adapter-kit'

const manager = () => createLockManager({ store: new MemoryStore(), sleep: 5 })

describe('runInRecordLock', () => {
  it('makes a handle held by fn’s flow, for reuse and order checks, and by nothing else', async () => {
    const locks = manager()
    const handle = await locks.acquire('order:5')
    expect(heldRecordLock(locks, 'order:5')).toBeUndefined() // a plain handle marks nobody
    const result = await runInRecordLock(
      locks,
      handle,
      async () => {
        expect(heldRecordLock(locks, 'order:5')?.lock).toBe(handle)
        expect(heldRecordLock(locks, 'order:5')?.context).toBe('ctx')
        await withRecordLocks(locks, ['order:5'], {}, null, async (_, reentered) => expect(reentered).toEqual([true]))
        await expect(withRecordLocks(locks, ['order:1'], { strictLockOrder: true }, null, async () => 1)).rejects.toBeInstanceOf(
          LockOrderError,
        )
        return 'done'
      },
      'ctx',
    )
    expect(result).toBe('done')
    expect(heldRecordLock(locks, 'order:5')).toBeUndefined()
    expect(handle.held).toBe(true) // the handle stays the caller's to release
    await handle.release()
  })

  it('leaves no mark on the async resource it ran in (the next request on a keep-alive connection)', async () => {
    const locks = manager()
    // What an HTTP parser is to the requests of one connection: every callback runs in its scope.
    const connection = new AsyncResource('KEEP_ALIVE_CONNECTION')
    const handle = await locks.acquire('order:7')
    let finish!: () => void
    const first = connection.runInAsyncScope(() => runInRecordLock(locks, handle, () => new Promise<void>((resolve) => (finish = resolve))))
    // While the first request's scope is still running, the next one on the connection is a stranger...
    expect(connection.runInAsyncScope(() => heldRecordLock(locks, 'order:7'))).toBeUndefined()
    const second = connection.runInAsyncScope(() => withRecordLocks(locks, ['order:7'], {}, null, async () => 'second request'))
    let settled = false
    void second.finally(() => (settled = true))
    while (!settled && !(await locks.query()).pending.some((request) => request.name === 'order:7')) await Promise.resolve()
    expect(settled).toBe(false) // ...and waits for the lock
    finish()
    await first
    expect(connection.runInAsyncScope(() => heldRecordLock(locks, 'order:7'))).toBeUndefined()
    await handle.release()
    expect(await second).toBe('second request')
  })

  it('stops counting work fn left behind once fn has settled', async () => {
    const locks = manager()
    const handle = await locks.acquire('order:8')
    let later!: Promise<unknown>
    await runInRecordLock(locks, handle, () => {
      later = new Promise((resolve) => setTimeout(() => resolve(heldRecordLock(locks, 'order:8')), 20))
    })
    expect(await later).toBeUndefined()
    await handle.release()
  })

  it('counts a lock lost while fn runs as this flow’s, so fn meets its LockLostError', async () => {
    const locks = manager()
    const handle = await locks.acquire('order:9')
    await runInRecordLock(locks, handle, async () => {
      await locks.forceRelease('order:9')
      const held = heldRecordLock(locks, 'order:9')
      expect(held?.lock.signal.reason).toBeInstanceOf(LockLostError)
    })
  })

  it('rejects for a handle that no longer holds its lock, and for bad input', async () => {
    const locks = manager()
    const released = await locks.acquire('order:10')
    await released.release()
    await expect(runInRecordLock(locks, released, () => 1)).rejects.toBeInstanceOf(LockNotOwnedError)
    const lost = await locks.acquire('order:11')
    await locks.forceRelease('order:11')
    await expect(runInRecordLock(locks, lost, () => 1)).rejects.toBeInstanceOf(LockLostError)
    await expect(runInRecordLock(locks, {} as never, () => 1)).rejects.toMatchObject({ argument: 'lock' })
    const handle = await locks.acquire('order:12')
    await expect(runInRecordLock(locks, handle, 'fn' as never)).rejects.toBeInstanceOf(InvalidLockArgumentError)
    await handle.release()
  })

  it('releases the locks nested calls joined to its scope when fn settles, not the handle', async () => {
    const locks = manager()
    const handle = await locks.acquire('order:13')
    await runInRecordLock(locks, handle, () =>
      withRecordLocks(locks, ['order:14'], { join: heldRecordLock(locks, 'order:13') }, null, async () => {
        expect(await locks.isLocked('order:14')).toBe(true)
      }),
    )
    expect(await locks.isLocked('order:14')).toBe(false)
    expect(handle.held).toBe(true)
    await handle.release()
  })
})

describe('recordLockHandle', () => {
  it('gives the handle a run(fn) bound to its manager', async () => {
    const locks = manager()
    const handle = recordLockHandle(locks, await locks.acquire('order:20'), 'ctx')
    expect(Object.keys(handle)).not.toContain('run')
    expect(await handle.run(() => heldRecordLock(locks, 'order:20')?.context)).toBe('ctx')
    expect(heldRecordLock(locks, 'order:20')).toBeUndefined()
    await handle.release()
  })
})
