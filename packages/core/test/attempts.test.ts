import { describe, expect, it, vi } from 'vitest'
import { createLockManager, LockError, LockNotAcquiredError, StoreTimeoutError } from '@cachelock/core'
import { FlakyStore } from './helpers.js'
import { ScriptedStore } from './support/scripted-store.js'

/**
 * What the attempts out for a name tell a request that got no lock: a busy lock (the store
 * answers; `LockNotAcquiredError`) or a store in trouble (it failed, or left an attempt unanswered
 * for at least half of the wait; a `LockError` with the store's error as cause).
 */

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('resolved'),
    (error: unknown) => error,
  )
}

describe('a request that timed out tells a busy lock from a store in trouble', () => {
  it('an attempt never answered: StoreTimeoutError naming the lock and how long the store kept it', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store, storeTimeout: 60_000 })
    store.hanging.add('acquire')
    const started = performance.now()
    const error = await rejection(locks.acquire('order:42', { timeout: 50 }))
    const elapsed = performance.now() - started
    expect(error).toBeInstanceOf(LockError)
    const cause = (error as LockError).cause as StoreTimeoutError
    expect(cause).toBeInstanceOf(StoreTimeoutError)
    expect(cause.operation).toBe('acquire')
    expect(cause.message).toContain('"order:42"')
    expect(cause.timeoutMs).toBeGreaterThanOrEqual(40)
    expect(cause.timeoutMs).toBeLessThanOrEqual(Math.ceil(elapsed))
  })

  it('an attempt sent late in the wait, still out at its end, is a busy lock', async () => {
    // Times are performance.now(), counted from the process start: let it be far behind, as in a
    // server that has run a while, so a wait is measured from its start and not from time zero.
    while (performance.now() < 2000) await new Promise((resolve) => setTimeout(resolve, 100))
    const store = new ScriptedStore()
    store.hold = () => false
    const holder = await createLockManager({ store }).acquire('order:42')
    store.hold = () => true
    const locks = createLockManager({ store, sleep: 60_000, storeTimeout: 60_000 })
    const waiting = rejection(locks.acquire('order:42', { timeout: 1000 }))
    // Refused at once (and again once the wake-up subscription is active), asked again 900 ms
    // in (when the holder's ttl would run out); that attempt is out when the wait ends, for far
    // less than half of it.
    store.held[0]!.answer({ granted: false, retryInMs: 899 })
    await vi.waitFor(() => expect(store.held).toHaveLength(1))
    store.held[0]!.answer({ granted: false, retryInMs: 899 })
    const error = await waiting
    expect(store.requests).toHaveLength(4)
    expect(error).toBeInstanceOf(LockNotAcquiredError)
    store.held[0]!.answer({ granted: false, retryInMs: 1000 })
    await holder.release()
  })

  it('an attempt out all along while the store answered others is a busy lock', async () => {
    const store = new ScriptedStore()
    const locks = createLockManager({ store, storeTimeout: 60_000 })
    const first = rejection(locks.acquire('order:42', { mode: 'shared', timeout: 300 }))
    const second = locks.acquire('order:42', { mode: 'shared' })
    expect(store.held).toHaveLength(2)
    // Granted, but delivered only after the first attempt is answered (grants go in send order).
    store.held[1]!.pass()
    expect(await first).toBeInstanceOf(LockNotAcquiredError)
    store.held[0]!.answer({ granted: false, retryInMs: 1000 })
    await (await second).release()
  })

  it('the oldest attempt out decides: one out since the start is store trouble, however recent the others', async () => {
    const store = new ScriptedStore()
    const locks = createLockManager({ store, storeTimeout: 60_000 })
    const first = rejection(locks.acquire('order:42', { mode: 'shared', timeout: 1000 }))
    // The second is sent after half of the first one's wait.
    await new Promise((resolve) => setTimeout(resolve, 800))
    const second = rejection(locks.acquire('order:42', { mode: 'shared' }))
    expect(store.held).toHaveLength(2)
    const error = await first
    expect(error).toBeInstanceOf(LockError)
    expect((error as LockError).cause).toBeInstanceOf(StoreTimeoutError)
    for (const attempt of [...store.held]) attempt.fail(new Error('gone'))
    await second
  })
})

describe('a failed attempt fails the requests that cannot outwait it', () => {
  it('but not a request whose own attempt is still out: its answer decides', async () => {
    const store = new ScriptedStore()
    const locks = createLockManager({ store, storeTimeout: 60_000 })
    const first = rejection(locks.acquire('order:42', { mode: 'shared' }))
    const second = locks.acquire('order:42', { mode: 'shared' })
    expect(store.held).toHaveLength(2)
    store.held[0]!.fail(new Error('connection reset'))
    const error = await first
    expect((error as LockError).code).toBe('LOCK_STORE_ERROR')
    expect(((error as LockError).cause as Error).message).toBe('connection reset')
    store.held[0]!.pass()
    await (await second).release()
  })

  it('and a request behind the attempts out, not asked for yet, fails with it at once', async () => {
    const store = new ScriptedStore()
    const locks = createLockManager({ store, storeTimeout: 60_000 })
    const first = rejection(locks.acquire('order:42', { mode: 'shared' }))
    const second = locks.acquire('order:42', { mode: 'shared' })
    const behind = rejection(locks.acquire('order:42', { mode: 'exclusive' }))
    expect(store.held).toHaveLength(2)
    store.held[0]!.fail(new Error('connection reset'))
    await first
    // While the second attempt is still out: the exclusive request does not wait for its answer.
    const error = await Promise.race([behind, new Promise((resolve) => setImmediate(() => resolve('still waiting')))])
    expect((error as LockError).code).toBe('LOCK_STORE_ERROR')
    expect(((error as LockError).cause as Error).message).toBe('connection reset')
    expect(store.held).toHaveLength(1)
    store.held[0]!.pass()
    await (await second).release()
  })

  it('and a request whose timeout passed before the failure came: the store error, though an answer follows', async () => {
    const store = new ScriptedStore()
    const locks = createLockManager({ store, storeTimeout: 60_000 })
    const first = rejection(locks.acquire('order:42', { mode: 'shared', timeout: 20 }))
    const second = locks.acquire('order:42', { mode: 'shared' })
    expect(store.held).toHaveLength(2)
    // The process is busy past the first one's timeout (its timer cannot run yet) when its attempt
    // fails; the second one's grant follows before that timer, and the store answering says nothing
    // of why the first got no lock.
    const busyUntil = performance.now() + 40
    while (performance.now() < busyUntil);
    store.held[0]!.fail(new Error('connection reset'))
    store.held[0]!.pass()
    const error = await first
    expect((error as LockError).code).toBe('LOCK_STORE_ERROR')
    expect(((error as LockError).cause as Error).message).toBe('connection reset')
    expect((error as LockError).message).toContain('20 ms timeout')
    await (await second).release()
  })
})
