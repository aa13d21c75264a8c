import { describe, expect, it } from 'vitest'
import { LockLostError, MemoryStore, createLockManager, type Lock } from '@cachelock/core'
import { FlakyStore } from './helpers.js'
import { refTimers } from './support/leases.js'

const tick = () => new Promise((resolve) => setTimeout(resolve, 0))
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

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

  it('the release after the callback keeps the process alive while the store has not answered', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store, storeTimeout: 60_000 })
    let before = 0
    const outcome = locks.request('a', async () => {
      store.paused.add('release')
      // Past the acquire's burst (the deadline lets the process go a turn after its last call).
      await turns(3)
      // Held, no store call out: renewal is housekeeping and keeps nothing alive.
      before = refTimers()
      return 'done'
    })
    // Waiting by turns, not on a timer of the test's own, which would be counted.
    while (!store.calls.includes('release')) await turns(1)
    // The caller awaits the request, which settles once the release is answered.
    expect(refTimers()).toBe(before + 1)
    store.resume()
    expect(await outcome).toBe('done')
  })

  it('a callback whose lock was force-released meanwhile: no release is sent after it, and the request resolves', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store })
    const outcome = locks.request('a', async (lock) => {
      await locks.forceRelease('a')
      expect(lock.signal.aborted).toBe(true)
      return 'done'
    })
    expect(await outcome).toBe('done')
    expect(store.calls.filter((call) => call === 'release' || call === 'forceRelease')).toEqual(['forceRelease'])
  })
})
