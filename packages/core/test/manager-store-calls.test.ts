import { afterEach, describe, expect, it } from 'vitest'
import { LockError, MemoryStore, type StoreTimeoutError, createLockManager, type Waiter } from '@cachelock/core'
import { FlakyStore } from './helpers.js'
import { refTimers, until } from './support/leases.js'

/** A memory store whose `waiters` answers when told to, or fails. */
class WaitersStore extends MemoryStore {
  #answer: (() => void) | undefined
  paused = false
  failing = false

  override async waiters(key: string): Promise<Waiter[]> {
    if (this.failing) throw new Error('connection lost during waiters')
    if (this.paused) await new Promise<void>((resolve) => (this.#answer = resolve))
    return super.waiters(key)
  }

  resume(): void {
    this.paused = false
    this.#answer?.()
  }
}

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

const stores: FlakyStore[] = []
afterEach(() => {
  for (const store of stores.splice(0)) store.resume()
})

/** The manager's own store calls (isLocked, forceRelease, query): bounded, reported, and keeping the process alive while awaited. */
describe('the manager’s direct store calls', () => {
  it.each([
    ['isLocked', 'holders' as const, (locks: ReturnType<typeof createLockManager>) => locks.isLocked('x')],
    ['forceRelease', 'forceRelease' as const, (locks: ReturnType<typeof createLockManager>) => locks.forceRelease('x')],
  ])('%s() keeps the process alive while the store has not answered', async (_, method, call) => {
    const store = new FlakyStore()
    stores.push(store)
    const locks = createLockManager({ store, storeTimeout: 60_000 })
    store.paused.add(method)
    await turns(3)
    const before = refTimers()
    const answer = call(locks)
    await turns(3)
    expect(refTimers()).toBe(before + 1)
    store.resume()
    await answer
  })

  it('query() keeps the process alive while only the waiters read is out', async () => {
    const store = new WaitersStore()
    const locks = createLockManager({ store, storeTimeout: 60_000 })
    const handle = await locks.acquire('x')
    await turns(3)
    const before = refTimers()
    store.paused = true
    const snapshot = locks.query()
    // The holders read answers at once; the waiters read is still out, and the caller awaits it.
    await turns(3)
    expect(refTimers()).toBe(before + 1)
    store.resume()
    expect((await snapshot).held).toHaveLength(1)
    await handle.release()
  })

  it.each([
    ['forceRelease', 'forceRelease' as const, 'force-release', (locks: ReturnType<typeof createLockManager>) => locks.forceRelease('x')],
    ['isLocked', 'holders' as const, 'query', (locks: ReturnType<typeof createLockManager>) => locks.isLocked('x')],
  ])('%s(): a store failure is a LockError naming the operation and the lock, with the cause', async (_, method, operation, call) => {
    const store = new FlakyStore()
    const locks = createLockManager({ store })
    store.failing.add(method)
    const error = (await call(locks).catch((e: unknown) => e)) as LockError
    expect(error).toBeInstanceOf(LockError)
    expect(error.code).toBe('LOCK_STORE_ERROR')
    expect(error.message).toBe(`Store failed to ${operation} lock "x": connection lost during ${method}`)
    expect((error.cause as Error).message).toBe(`connection lost during ${method}`)
  })

  it('query(): a failing waiters read is a LockError naming the operation and the lock', async () => {
    const store = new WaitersStore()
    const locks = createLockManager({ store })
    const handle = await locks.acquire('x')
    store.failing = true
    const error = (await locks.query().catch((e: unknown) => e)) as LockError
    expect(error).toBeInstanceOf(LockError)
    expect(error.code).toBe('LOCK_STORE_ERROR')
    expect(error.message).toBe('Store failed to query lock "x": connection lost during waiters')
    await handle.release()
  })

  it('query(): a waiters read that never answers fails within storeTimeout, as a query of the lock', async () => {
    const store = new WaitersStore()
    const locks = createLockManager({ store, storeTimeout: 50 })
    const handle = await locks.acquire('x')
    store.paused = true
    const error = (await locks.query().catch((e: unknown) => e)) as LockError
    expect(error).toBeInstanceOf(LockError)
    expect((error.cause as StoreTimeoutError).operation).toBe('query')
    expect(error.message).toContain('query of lock "x"')
    store.resume()
    await handle.release()
  })

  it('query() on a store without `waiters` lists no other waiters, and no error', async () => {
    const store = new MemoryStore()
    Object.defineProperty(store, 'waiters', { value: undefined })
    const locks = createLockManager({ store })
    const other = createLockManager({ store, sleep: 5 })
    const handle = await locks.acquire('x')
    const waiting = other.acquire('x')
    await until(async () => (await other.query()).pending.length === 1)
    expect(await locks.query()).toEqual({ held: [{ name: 'x', mode: 'exclusive', clientId: locks.clientId }], pending: [] })
    await handle.release()
    await (await waiting).release()
  })

  it('close() closes the store', async () => {
    const store = new MemoryStore()
    let closed = 0
    Object.defineProperty(store, 'close', { value: () => void closed++ })
    await createLockManager({ store }).close()
    expect(closed).toBe(1)
  })

  it('forgets a name once nothing is held, pending or out for it: query() asks the store about none', async () => {
    const store = new FlakyStore()
    const locks = createLockManager({ store })
    for (let i = 0; i < 3; i++) await locks.withLock(`name:${i}`, () => undefined)
    store.calls = []
    expect(await locks.query()).toEqual({ held: [], pending: [] })
    expect(store.calls).toEqual([])
  })
})
