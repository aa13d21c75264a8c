import { describe, expect, it } from 'vitest'
import { LockLostError, MemoryStore, createLockManager, type Lock } from '@cachelock/core'
import { FlakyStore } from './helpers.js'

const tick = () => new Promise((resolve) => setTimeout(resolve, 0))

/** How request()'s promise settles for every way its callback can end. */
describe('request() and its callback', () => {
  it('a callback that throws synchronously: the request rejects with that error and the lock is free again', async () => {
    const locks = createLockManager({ store: new MemoryStore() })
    const boom = new Error('thrown before any await')
    await expect(
      locks.request('a', () => {
        throw boom
      }),
    ).rejects.toBe(boom)
    expect(await locks.isLocked('a')).toBe(false)
  })

  it('a callback given null (ifAvailable) that rejects: the request rejects with its error', async () => {
    const store = new MemoryStore()
    const holder = await createLockManager({ store }).acquire('a')
    const locks = createLockManager({ store })
    const boom = new Error('no lock, and failed')
    await expect(
      locks.request('a', { ifAvailable: true }, (lock) => {
        expect(lock).toBeNull()
        return Promise.reject(boom)
      }),
    ).rejects.toBe(boom)
    await holder.release()
  })

  it('a callback that rejects while the release fails too: the request rejects with the callback’s error', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store })
    const boom = new Error('the callback failed')
    const outcome = locks.request('a', () => {
      store.failing.add('release')
      return Promise.reject(boom)
    })
    await expect(outcome).rejects.toBe(boom)
  })

  it('a stolen lock’s request rejects with an AbortError that names the lock', async () => {
    const store = new MemoryStore()
    const locks = createLockManager({ store })
    let victim: Lock | undefined
    let finish!: () => void
    const held = locks
      .request('order:7', (lock) => {
        victim = lock
        return new Promise<void>((resolve) => (finish = resolve))
      })
      .catch((error: unknown) => error)
    while (!victim) await tick()
    await locks.request('order:7', { steal: true }, () => undefined)
    const error = (await held) as DOMException
    expect(error).toBeInstanceOf(DOMException)
    expect(error.name).toBe('AbortError')
    expect(error.message).toBe('Lock "order:7" was stolen')
    expect(error.cause).toBeInstanceOf(LockLostError)
    finish()
  })
})
