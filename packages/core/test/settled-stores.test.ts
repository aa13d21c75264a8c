import { describe, expect, it } from 'vitest'
import { createLockManager, LockError, MemoryStore, StoreTimeoutError, type LockStore } from '@cachelock/core'
import { ImplicitMemoryStore } from '../src/implicit-store.js'
import { answersAtOnce } from '../src/settled-stores.js'
import { FlakyStore } from './helpers.js'

/**
 * The manager skips `storeTimeout`'s bookkeeping for a store whose every call is settled when it
 * returns (the memory store's own instances). Only for those: a subclass or a wrapper of one may
 * delay its calls, and a call that never answers must still fail within `storeTimeout`.
 */
describe('stores whose calls are settled at once', () => {
  it('are the memory store and the implicit default, not a subclass, a proxy or another store', () => {
    expect(answersAtOnce(new MemoryStore())).toBe(true)
    expect(answersAtOnce(new ImplicitMemoryStore())).toBe(true)
    expect(answersAtOnce(new FlakyStore())).toBe(false)
    expect(answersAtOnce(new Proxy(new MemoryStore(), {}))).toBe(false)
    expect(answersAtOnce(Object.create(MemoryStore.prototype) as object)).toBe(false)
    expect(answersAtOnce({ acquire: () => Promise.resolve({ granted: true, fencingToken: 1 }) })).toBe(false)
  })

  const hangingAcquire = (store: MemoryStore): LockStore =>
    new Proxy(store, {
      get(target, key) {
        if (key === 'acquire') return () => new Promise(() => undefined)
        const value: unknown = Reflect.get(target, key, target)
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
      },
    })

  it.each([
    ['a proxy of a memory store', () => hangingAcquire(new MemoryStore())],
    ['a subclass of the memory store', () => Object.assign(new FlakyStore(), { hanging: new Set(['acquire']) })],
  ])('%s whose acquire never answers still fails within storeTimeout', async (_, make) => {
    const locks = createLockManager({ store: make(), storeTimeout: 50 })
    const started = performance.now()
    const error = await locks.withLock('order:1', () => 'ran').catch((caught: unknown) => caught)
    expect(performance.now() - started).toBeLessThan(2000)
    expect(error).toBeInstanceOf(LockError)
    expect((error as LockError).cause).toBeInstanceOf(StoreTimeoutError)
  })

  it('a memory store manager still grants, orders and releases as before', async () => {
    const store = new MemoryStore()
    const a = createLockManager({ store, storeTimeout: 50 })
    const b = createLockManager({ store, storeTimeout: 50 })
    const order: string[] = []
    let release!: () => void
    const first = a.withLock('x', () => new Promise<void>((resolve) => (release = () => (order.push('a'), resolve()))))
    const second = b.withLock('x', () => void order.push('b'))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(order).toEqual([])
    release()
    await Promise.all([first, second])
    expect(order).toEqual(['a', 'b'])
    expect(await store.holders('x')).toEqual([])
  })
})
