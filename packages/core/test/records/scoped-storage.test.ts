import { executionAsyncResource } from 'node:async_hooks'
import { describe, expect, it } from 'vitest'
import { createLockManager } from '@cachelock/core'
import { heldRecordLock, runInRecordLock, ScopedStorage, withRecordLocks } from '@cachelock/core/adapter-kit'

/**
 * Whether Node's promise hooks are on in this process: with them, the resource an `await`
 * continuation runs in is its promise; without, the enclosing one. (On Node 20 and 22 an enabled
 * AsyncLocalStorage turns them on for every promise of the process.)
 */
async function promiseHooksOn(): Promise<boolean> {
  await Promise.resolve()
  return executionAsyncResource() instanceof Promise
}

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

describe('ScopedStorage: enabled only while a scope runs', () => {
  it('the process pays no promise hooks before a record lock, while none is held, and after one', async () => {
    expect(await promiseHooksOn()).toBe(false)
    const locks = createLockManager()
    const inside = await withRecordLocks(locks, ['order:1'], {}, 'tx', async () => {
      await turns(2)
      return { hooks: await promiseHooksOn(), held: heldRecordLock(locks, 'order:1')?.context }
    })
    // Inside: the storage is on (the flow knows what it holds).
    expect(inside).toEqual({ hooks: true, held: 'tx' })
    // After: off again, for every promise of the process.
    expect(await promiseHooksOn()).toBe(false)
    const handle = await locks.acquire('order:2')
    expect(await runInRecordLock(locks, handle, async () => heldRecordLock(locks, 'order:2') !== undefined)).toBe(true)
    await handle.release()
    expect(await promiseHooksOn()).toBe(false)
  })

  it('stays on while any scope is open: an inner scope or another flow ending does not turn it off', async () => {
    const storage = new ScopedStorage<string>()
    let endInner!: () => void
    let endOther!: () => void
    const seen: (string | undefined)[] = []
    const outer = storage.run('outer', async () => {
      await storage.run('inner', () => new Promise<void>((resolve) => (endInner = resolve)).then(() => seen.push(storage.getStore())))
      await turns(2)
      seen.push(storage.getStore())
      await new Promise<void>((resolve) => (endOther = resolve))
      await turns(2)
      seen.push(storage.getStore())
    })
    const other = storage.run('other', async () => {
      await turns(1)
      endInner()
      await turns(3)
      seen.push(storage.getStore())
      endOther()
    })
    expect(storage.open).toBe(3)
    await Promise.all([outer, other])
    expect(seen).toEqual(['inner', 'outer', 'other', 'outer'])
    expect(storage.open).toBe(0)
    expect(storage.getStore()).toBeUndefined()
    expect(await promiseHooksOn()).toBe(false)
  })

  it('a scope ends when fn throws, rejects or returns a plain value', async () => {
    const storage = new ScopedStorage<number>()
    expect(() =>
      storage.run(1, () => {
        throw new Error('sync')
      }),
    ).toThrow('sync')
    expect(storage.open).toBe(0)
    await expect(storage.run(2, () => Promise.reject(new Error('async')))).rejects.toThrow('async')
    expect(storage.open).toBe(0)
    expect(storage.run(3, () => storage.getStore())).toBe(3)
    expect(storage.open).toBe(0)
    expect(await promiseHooksOn()).toBe(false)
  })
})
