import { describe, expect, it, vi } from 'vitest'
import { createLockManager, LockError, LockNotAcquiredError, MemoryStore, StoreTimeoutError } from '@cachelock/core'
import { FlakyStore } from './helpers.js'

/** What a burst of callers on one name gets when the store fails: never one failed attempt at a time. */
const CALLERS = 40

function settleAll(promises: Promise<unknown>[]) {
  return Promise.all(
    promises.map((promise) =>
      promise.then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    ),
  )
}

function expectStoreError(error: unknown, cause: (cause: unknown) => void): void {
  expect(error).toBeInstanceOf(LockError)
  expect(error).not.toBeInstanceOf(LockNotAcquiredError)
  expect((error as LockError).code).toBe('LOCK_STORE_ERROR')
  cause((error as LockError).cause)
}

describe('a store failure reaches every waiter of the name at once', () => {
  it('one failed attempt fails all callers without a timeout, with the store error as cause', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store })
    store.failing.add('acquire')
    const outcomes = await settleAll(Array.from({ length: CALLERS }, () => locks.withLock('order:42', () => 'granted')))
    for (const outcome of outcomes) {
      expect(outcome.ok).toBe(false)
      expectStoreError(!outcome.ok && outcome.error, (cause) => expect((cause as Error).message).toBe('connection lost during acquire'))
    }
    expect(store.calls.filter((call) => call === 'acquire')).toHaveLength(1)
  })

  it('a store that does not answer fails them all once, after storeTimeout', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store, storeTimeout: 100 })
    store.hanging.add('acquire')
    const outcomes = await settleAll(Array.from({ length: CALLERS }, () => locks.withLock('order:42', () => 'granted')))
    for (const outcome of outcomes)
      expectStoreError(!outcome.ok && outcome.error, (cause) => expect(cause).toBeInstanceOf(StoreTimeoutError))
    expect(store.calls.filter((call) => call === 'acquire')).toHaveLength(1)
  })

  it('callers with a timeout keep trying until it runs out, then reject with the store error, not "not acquired"', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store, sleep: 10 })
    store.failing.add('acquire')
    const started = performance.now()
    const outcomes = await settleAll(Array.from({ length: 5 }, () => locks.withLock('order:42', () => 'granted', { timeout: 150 })))
    expect(performance.now() - started).toBeGreaterThanOrEqual(149)
    for (const outcome of outcomes) {
      expectStoreError(!outcome.ok && outcome.error, (cause) => expect((cause as Error).message).toBe('connection lost during acquire'))
      expect(String((outcome as { error: Error }).error.message)).toContain('150 ms timeout')
    }
    // Retried, one attempt at a time for the whole name.
    expect(store.calls.filter((call) => call === 'acquire').length).toBeGreaterThan(1)
  })

  it('a caller with a timeout gets the lock once the store is back', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store, sleep: 10 })
    store.failing.add('acquire')
    const rider = locks.withLock('order:42', () => 'granted', { timeout: 10_000 })
    const failing = locks.withLock('order:42', () => 'granted')
    await expect(failing).rejects.toMatchObject({ code: 'LOCK_STORE_ERROR' })
    await vi.waitFor(() => expect(store.calls.filter((call) => call === 'acquire').length).toBeGreaterThan(2))
    store.failing.clear()
    await expect(rider).resolves.toBe('granted')
  })

  it('a timeout during which the store never answered rejects with the store error (StoreTimeoutError)', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store, storeTimeout: 60_000 })
    store.hanging.add('acquire')
    const error = await locks.withLock('x', () => 'granted', { timeout: 50 }).catch((error: unknown) => error)
    expectStoreError(error, (cause) => expect(cause).toBeInstanceOf(StoreTimeoutError))
  })

  it('a timeout while the store answers (the lock is held elsewhere) is LockNotAcquiredError, without cause', async () => {
    const store = new MemoryStore()
    const holder = createLockManager({ store })
    const handle = await holder.acquire('x')
    const error = await createLockManager({ store, sleep: 10 })
      .withLock('x', () => 'granted', { timeout: 50 })
      .catch((error: unknown) => error)
    expect(error).toBeInstanceOf(LockNotAcquiredError)
    expect((error as LockError).cause).toBeUndefined()
    await handle.release()
  })
})
