import { describe, expect, it, vi } from 'vitest'
import { createLockManager, LockError, StoreTimeoutError, type LockStore } from '@cachelock/core'
import { FlakyStore } from './helpers.js'

/**
 * `storeTimeout`: every store call the manager makes settles within it, whatever the store does.
 * A call that never answers rejects with `LockError` (`LOCK_STORE_ERROR`) whose `cause` is a
 * `StoreTimeoutError` naming the operation; a grant that arrives after the caller gave up is
 * given back, so no lock is left that nobody holds.
 */
const STORE_TIMEOUT = 50

function manager(store: FlakyStore) {
  return createLockManager({ store, storeTimeout: STORE_TIMEOUT, prefix: '' })
}

async function expectTimedOut(promise: Promise<unknown>, operation: string): Promise<void> {
  const error = await promise.then(
    () => expect.unreachable('resolved although the store never answered'),
    (error: unknown) => error,
  )
  expect(error).toBeInstanceOf(LockError)
  expect((error as LockError).code).toBe('LOCK_STORE_ERROR')
  const cause = (error as LockError).cause
  expect(cause).toBeInstanceOf(StoreTimeoutError)
  expect((cause as StoreTimeoutError).operation).toBe(operation)
  expect((cause as StoreTimeoutError).timeoutMs).toBe(STORE_TIMEOUT)
}

describe('storeTimeout bounds every store call', () => {
  const cases: [string, keyof LockStore, string, (locks: ReturnType<typeof manager>) => Promise<unknown>][] = [
    ['request()', 'acquire', 'acquire', (locks) => locks.request('x', () => undefined)],
    ['withLock()', 'acquire', 'acquire', (locks) => locks.withLock('x', () => undefined)],
    ['acquire()', 'acquire', 'acquire', (locks) => locks.acquire('x')],
    ['tryAcquire()', 'acquire', 'acquire', (locks) => locks.tryAcquire('x')],
    ['request({ steal })', 'steal', 'steal', (locks) => locks.request('x', { steal: true }, () => undefined)],
    ['isLocked()', 'holders', 'query', (locks) => locks.isLocked('x')],
    ['forceRelease()', 'forceRelease', 'force-release', (locks) => locks.forceRelease('x')],
  ]

  it.each(cases)('%s', async (_, method, operation, call) => {
    const store = new FlakyStore()
    const locks = manager(store)
    store.hanging.add(method)
    await expectTimedOut(call(locks), operation)
  })

  it('query() of a held name', async () => {
    const store = new FlakyStore()
    const locks = manager(store)
    const handle = await locks.acquire('x')
    store.hanging.add('holders')
    await expectTimedOut(locks.query(), 'query')
    await handle.release()
  })

  it.each([
    ['release()', 'release', 'release', (handle: Awaited<ReturnType<ReturnType<typeof manager>['acquire']>>) => handle.release()],
    [
      'release({ force })',
      'forceRelease',
      'force-release',
      (handle: Awaited<ReturnType<ReturnType<typeof manager>['acquire']>>) => handle.release({ force: true }),
    ],
    ['extend()', 'extend', 'extend', (handle: Awaited<ReturnType<ReturnType<typeof manager>['acquire']>>) => handle.extend()],
  ] as const)('handle.%s', async (_, method, operation, call) => {
    const store = new FlakyStore()
    const locks = manager(store)
    const handle = await locks.acquire('x', { autoExtend: false })
    store.hanging.add(method)
    await expectTimedOut(call(handle), operation)
  })

  it('query() waits for attempts out and reads the holders at the same time: one storeTimeout, not two', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store, storeTimeout: 60_000, prefix: '' })
    store.paused.add('acquire')
    const waiting = locks.request('x', () => undefined).catch((error: unknown) => error)
    store.failing.add('holders')
    // The read fails at once; query() does not first wait for the attempt that is still out.
    await expect(locks.query()).rejects.toMatchObject({ code: 'LOCK_STORE_ERROR' })
    store.failing.clear()
    store.resume()
    expect(await waiting).toBeUndefined()
  })

  it('a grant that arrives after the caller gave up is released', async () => {
    const store = new FlakyStore()
    const locks = manager(store)
    store.paused.add('acquire')
    await expectTimedOut(locks.acquire('x'), 'acquire')
    // The timed-out attempt's owner was given back already (a no-op: nothing granted yet); count
    // the releases from here.
    const releases = () => store.calls.filter((call) => call === 'release').length
    const before = releases()
    store.resume()
    // The store granted it after all; the manager gives it back at once.
    await vi.waitFor(() => expect(releases()).toBeGreaterThan(before))
    expect(await store.holders('x')).toEqual([])
    await expect(locks.withLock('x', () => 'next', { timeout: 0 })).resolves.toBe('next')
  })

  it('a steal that lands after the caller gave up is released', async () => {
    const store = new FlakyStore()
    const locks = manager(store)
    store.paused.add('steal')
    await expectTimedOut(
      locks.request('x', { steal: true }, () => undefined),
      'steal',
    )
    store.resume()
    await vi.waitFor(() => expect(store.calls).toContain('release'))
    expect(await store.holders('x')).toEqual([])
  })

  it('a store that answers in time is not affected', async () => {
    const store = new FlakyStore()
    store.latencyMs = 5
    const locks = manager(store)
    await expect(locks.withLock('x', () => 'ok')).resolves.toBe('ok')
    expect(locks.storeTimeout).toBe(STORE_TIMEOUT)
    expect(createLockManager().storeTimeout).toBe(2000)
  })
})
